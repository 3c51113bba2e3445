"""The lock controller's tables: accounts, circles, memberships, tools, checkouts, events."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    inspect,
    text,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
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


def create_schema(engine: Engine, root: str) -> int:
    """Create missing tables and upgrade old ones; return how many tools were migrated.

    Before seed 004's per-device prefixes a tool had no ``device_prefix``: its device lived at
    ``{root}/device/{id}/machine-access/...``. Such a tool gets the default prefix
    ``{root}/{device_id}``, the prefix the upgraded device must be given (docs/lock.md).
    """
    with engine.connect() as conn:
        tables = inspect(conn).get_table_names()
        columns = (
            {c["name"] for c in inspect(conn).get_columns("tools")} if "tools" in tables else set()
        )
    migrated = 0
    if "tools" in tables and "device_prefix" not in columns:
        migrated = _add_device_prefix(engine, root)
    Base.metadata.create_all(engine)
    return migrated


def _add_device_prefix(engine: Engine, root: str) -> int:
    if engine.dialect.name == "sqlite":
        return _rebuild_sqlite_tools(engine, root)
    with engine.begin() as conn:  # PostgreSQL: DDL is transactional, all or nothing
        conn.execute(text("ALTER TABLE tools ADD COLUMN device_prefix VARCHAR(200)"))
        count = _fill_prefix(conn, "tools", root)
        conn.execute(text("ALTER TABLE tools ALTER COLUMN device_prefix SET NOT NULL"))
        conn.execute(
            text("ALTER TABLE tools DROP CONSTRAINT IF EXISTS tools_device_id_lock_index_key")
        )
        conn.execute(text("ALTER TABLE tools ADD UNIQUE (device_prefix, lock_index)"))
    return count


def _fill_prefix(conn: Connection, table: str, root: str) -> int:
    result = conn.execute(
        text(f"UPDATE {table} SET device_prefix = :root || '/' || device_id"), {"root": root}
    )
    return int(result.rowcount or 0)


def _rebuild_sqlite_tools(engine: Engine, root: str) -> int:
    """SQLite cannot change a table's constraints: copy into a new table and swap (sqlite.org's
    "making other kinds of table schema changes"), foreign keys off, in one transaction."""
    copy = MetaData()
    for table in Base.metadata.sorted_tables:  # the tables the foreign keys point to
        if table.name != "tools":
            table.to_metadata(copy)
    new = Base.metadata.tables["tools"].to_metadata(copy, name="tools_new")
    with engine.connect() as conn:
        # Outside any transaction, or SQLite ignores it.
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        conn.commit()
        try:
            with conn.begin():
                conn.exec_driver_sql("DROP TABLE IF EXISTS tools_new")
                new.create(conn)
                inserted = conn.execute(
                    text(
                        "INSERT INTO tools_new (id, name, description, device_id, device_prefix,"
                        " lock_index, circle_id) SELECT id, name, description, device_id,"
                        " :root || '/' || device_id, lock_index, circle_id FROM tools"
                    ),
                    {"root": root},
                )
                count = int(inserted.rowcount or 0)
                conn.exec_driver_sql("DROP TABLE tools")
                conn.exec_driver_sql("ALTER TABLE tools_new RENAME TO tools")
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"tools migration broke foreign keys: {broken[:5]}")
        finally:
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            conn.commit()
    return count
