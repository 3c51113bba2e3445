"""The lock controller's tables: accounts, circles, memberships, tools, checkouts, events."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.migrations import Store, upgrade

__all__ = [
    "STORE",
    "Account",
    "Base",
    "Checkout",
    "Circle",
    "CircleMember",
    "Event",
    "Membership",
    "Token",
    "Tool",
    "create_schema",
    "utc",
    "utcnow",
]


def utcnow() -> datetime:
    return datetime.now(UTC)


def utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True)}  # noqa: RUF012


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Circle(Base):
    __tablename__ = "circles"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")


class CircleMember(Base):
    __tablename__ = "circle_members"
    circle_id: Mapped[int] = mapped_column(ForeignKey("circles.id"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)


class Membership(Base):
    """A paid-up period; checkout needs one that covers now."""

    __tablename__ = "memberships"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]


class Tool(Base):
    """A machine behind lock ``lock_index`` of the device at ``device_prefix`` (seed 004:
    ``$prefix/machine-access/$lock``); ``device_id`` names its ``$prefix/device/$id`` topics."""

    __tablename__ = "tools"
    __table_args__ = (UniqueConstraint("device_prefix", "lock_index"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    device_id: Mapped[str] = mapped_column(String(32))
    device_prefix: Mapped[str] = mapped_column(String(200))
    lock_index: Mapped[int] = mapped_column(Integer)
    circle_id: Mapped[int | None] = mapped_column(ForeignKey("circles.id"), nullable=True)


class Checkout(Base):
    """Who holds a tool; the primary key makes one holder per tool a database fact."""

    __tablename__ = "checkouts"
    tool_id: Mapped[int] = mapped_column(ForeignKey("tools.id"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    checked_out_at: Mapped[datetime] = mapped_column(default=utcnow)
    request_id: Mapped[str] = mapped_column(String(64))


class Token(Base):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    expires_at: Mapped[datetime]


class Event(Base):
    """Append-only log: who unlocked/locked what when, and every refusal and failure."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), nullable=True)
    tool_id: Mapped[int | None] = mapped_column(ForeignKey("tools.id"), nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")


# The controller's tables: migrations in services/lock/migrations.
STORE = Store("lock", Path(__file__).parent / "migrations", Base.metadata)


def create_schema(engine: Engine, root: str) -> int:
    """Create or upgrade the tables (shared/migrations); return how many tools were migrated.

    Before seed 004's per-device prefixes a tool had no ``device_prefix``: its device lived at
    ``{root}/device/{id}/machine-access/...``. Such a tool gets the default prefix
    ``{root}/{device_id}``, the prefix the upgraded device must be given (docs/lock.md); the
    baseline migration (services/lock/migrations/lock_0001_baseline.py) does it.
    """
    results = upgrade(engine, STORE, options={"mqtt_root": root})
    return int(results.get("tools_migrated", 0))
