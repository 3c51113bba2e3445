"""Tables every energy service shares: registrations and channel reader positions.

They live on :class:`EnergyBase`; a service puts its own tables on the same base so that
handling a channel message and moving the reader past it commit in one transaction. The
shared ``energy_*`` tables are one store (:data:`STORE`, shared/energy/migrations); each
service's own tables are another (the grid's ``grid_*`` …), each migrated on its own.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Boolean, DateTime, Integer, String
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.energy.roles import declared_role
from shared.migrations import Store

__all__ = ["STORE", "EnergyBase", "ReaderPosition", "Registration", "utcnow"]


def utcnow() -> datetime:
    return datetime.now(UTC)


def _seed_role(context: DefaultExecutionContext) -> str | None:
    return declared_role(context.get_current_parameters()["item_type"], None)


class EnergyBase(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True)}  # noqa: RUF012


class Registration(EnergyBase):
    """One registrant (a source at a producer; a producer or consumer at the grid)."""

    __tablename__ = "energy_registrations"

    registration_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    item_name: Mapped[str] = mapped_column(String(256))
    item_type: Mapped[str] = mapped_column(String(64))
    # seller, buyer or both (shared/energy/roles.py); None for a producer's source. A
    # row saved without one gets the role its seed itemType names.
    role: Mapped[str | None] = mapped_column(String(16), nullable=True, default=_seed_role)
    root: Mapped[str | None] = mapped_column(String(81), nullable=True)
    side_key: Mapped[str | None] = mapped_column(String(81), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReaderPosition(EnergyBase):
    """Where this service stands in a registrant's channel (survives restarts).

    ``next_root`` is the root of the next message to read; ``closed`` is set once
    ``goodbye`` was read (the channel is followed no further).
    """

    __tablename__ = "energy_reader_positions"

    registration_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    root: Mapped[str] = mapped_column(String(81))
    side_key: Mapped[str | None] = mapped_column(String(81), nullable=True)
    next_root: Mapped[str] = mapped_column(String(81))
    messages_read: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


# The energy_* tables of every energy service (these modules declare them on EnergyBase).
STORE = Store(
    "energy",
    Path(__file__).parent / "migrations",
    EnergyBase.metadata,
    prefixes=("energy_",),
    models=("shared.energy.channels", "shared.energy.participant", "shared.energy.source"),
)
