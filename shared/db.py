"""The one place that makes database engines and sessions (SQLAlchemy 2).

Every store in the project gets its engine from :func:`make_engine`, so SQLite files
behave the same everywhere (WAL, durable commits, a busy timeout for a second process,
foreign keys) and PostgreSQL is used by URL alone. Blocking database work called from
async code goes through :func:`run_db`, which runs it in a worker thread so the event
loop never waits on an fsync.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Column, MetaData, String, Table, Text, create_engine, event, insert, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

__all__ = [
    "is_sqlite",
    "key_value_table",
    "make_engine",
    "make_sessionmaker",
    "put_values",
    "run_db",
    "sqlite_url",
]

P = ParamSpec("P")
T = TypeVar("T")

# How long a SQLite writer waits for another process's write lock before failing.
SQLITE_BUSY_TIMEOUT_MS = 30_000


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def sqlite_url(data_dir: str | Path, name: str) -> str:
    """The default database of a service: ``sqlite:///<data_dir>/<name>.db``."""
    return f"sqlite:///{Path(data_dir).expanduser() / name}.db"


def _sqlite_path(url: str) -> str:
    return url.split("///", 1)[1] if "///" in url else ""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers and one writer of other processes work at once; synchronous=FULL
    # makes every commit durable before it returns (a SIGKILL or power cut loses nothing
    # that was reported as stored); foreign keys are off in SQLite unless asked for.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``: a SQLite file (its directory created) or any SQLAlchemy URL.

    ``sqlite://`` or ``sqlite:///:memory:`` is one shared in-memory database (tests).
    PostgreSQL URLs get ``pool_pre_ping`` so a restarted server costs no failed request.
    """
    if is_sqlite(url):
        path = _sqlite_path(url)
        if path in ("", ":memory:"):
            # One shared connection, or every thread would see its own empty database.
            engine = create_engine(
                url,
                connect_args={"check_same_thread": False},
                poolclass=StaticPool,
                **kwargs,
            )
        else:
            if not path.startswith("file:"):
                # A file in a directory that does not exist yet is the normal first start.
                Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(
                url,
                connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
                **kwargs,
            )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (they are handed to callers)."""
    return sessionmaker(engine, expire_on_commit=False)


async def run_db(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run blocking database work in a worker thread (never hold a Session across awaits)."""
    return await asyncio.to_thread(fn, *args, **kwargs)


def key_value_table(name: str, metadata: MetaData) -> Table:
    """A table of text values by key (a store's cursor, its snapshot's facts)."""
    return Table(
        name,
        metadata,
        Column("key", String(64), primary_key=True),
        Column("value", Text, nullable=False),
    )


def put_values(conn: Connection, table: Table, values: Mapping[str, str]) -> None:
    """Set ``values`` in a :func:`key_value_table`: each key updated, else inserted."""
    for key, value in values.items():
        done = conn.execute(update(table).where(table.c.key == key).values(value=value))
        if done.rowcount == 0:
            conn.execute(insert(table).values(key=key, value=value))
