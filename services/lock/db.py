"""The lock controller's tables: accounts, circles, memberships, tools, checkouts, events."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
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
    "PaidSession",
    "Token",
    "Tool",
    "ToolPayment",
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
    # Pricing (issue 23): "member" (checkout with membership and circle: seed 004's flow),
    # "free" (any account may check out) or "paid" (minutes bought over a payment channel).
    pricing: Mapped[str] = mapped_column(String(8), default="member", server_default="member")
    price_per_minute: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    min_minutes: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class PaidSession(Base):
    """Time on a paid tool bought over one payment channel (issue 23).

    ``paid_until`` is ``started_at`` plus every minute bought: a payment always extends the
    end, never the present, so no minute is sold twice. ``state`` is ``active`` (the tool
    is unlocked for it), ``ended`` (locked after ``paid_until`` + grace, or the channel
    closed) or ``failed`` (the device never confirmed the first unlock).
    """

    __tablename__ = "paid_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tool_id: Mapped[int] = mapped_column(ForeignKey("tools.id"), index=True)
    channel_id: Mapped[str] = mapped_column(String(64), index=True)
    payer: Mapped[str] = mapped_column(String(500))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    paid_until: Mapped[datetime]
    paid: Mapped[int] = mapped_column(BigInteger, default=0)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)  # bought, at LOCK_MINUTE_SECONDS
    minutes: Mapped[float] = mapped_column(Float, default=0.0)  # bought
    state: Mapped[str] = mapped_column(String(8), default="active", index=True)
    ended_at: Mapped[datetime | None] = mapped_column(nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")


class ToolPayment(Base):
    """One payment received for a tool, with the answer given (issue 23).

    ``received_id`` is the channel node's id of the payment (``channel_payments_received``):
    unique, so a payment whose answer was lost in a crash and is sent again gets the same
    answer and buys nothing twice.
    """

    __tablename__ = "tool_payments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_id: Mapped[int] = mapped_column(Integer, unique=True)
    channel_id: Mapped[str] = mapped_column(String(64))
    tool_id: Mapped[int | None] = mapped_column(ForeignKey("tools.id"), nullable=True, index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("paid_sessions.id"), nullable=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # "accepted" (bought time) or "refused" (bought nothing: see error)
    status: Mapped[str] = mapped_column(String(8))
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    answer: Mapped[str] = mapped_column(Text, default="")  # the JSON answer, or the refusal


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
