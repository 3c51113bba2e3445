"""shared/db.py: every SQLite engine gets the same pragmas, its directory, and memory DBs
shared across threads; blocking work runs off the event loop."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from sqlalchemy import Integer, String, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import (
    SQLITE_BUSY_TIMEOUT_MS,
    is_sqlite,
    make_engine,
    make_sessionmaker,
    run_db,
    sqlite_url,
)


class _Base(DeclarativeBase):
    pass


class _Row(_Base):
    __tablename__ = "rows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(20))


def _pragmas(engine: Engine) -> dict[str, object]:
    with engine.connect() as conn:
        return {
            name: conn.execute(text(f"PRAGMA {name}")).scalar_one()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }


def test_sqlite_file_gets_every_pragma_and_its_directory(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "deep" / "er", "orders")
    assert url == f"sqlite:///{tmp_path / 'deep' / 'er' / 'orders'}.db"
    engine = make_engine(url)
    try:
        assert (tmp_path / "deep" / "er").is_dir()
        # synchronous: 2 is FULL (every commit durable); foreign keys on; WAL; busy timeout
        assert _pragmas(engine) == {
            "journal_mode": "wal",
            "synchronous": 2,
            "foreign_keys": 1,
            "busy_timeout": SQLITE_BUSY_TIMEOUT_MS,
        }
        _Base.metadata.create_all(engine)
        assert (tmp_path / "deep" / "er" / "orders.db").is_file()
    finally:
        engine.dispose()


def test_every_new_connection_gets_the_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        seen: list[object] = []

        def read() -> None:
            with engine.connect() as conn:
                seen.append(conn.execute(text("PRAGMA synchronous")).scalar_one())

        threads = [threading.Thread(target=read) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert seen == [2, 2, 2, 2]
    finally:
        engine.dispose()


def test_foreign_keys_are_enforced(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'fk.db'}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
            conn.execute(
                text("CREATE TABLE child (id INTEGER PRIMARY KEY, p INTEGER REFERENCES parent(id))")
            )
        with pytest.raises(Exception, match="FOREIGN KEY"), engine.begin() as conn:
            conn.execute(text("INSERT INTO child (id, p) VALUES (1, 42)"))
    finally:
        engine.dispose()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_memory_database_is_one_database_for_every_thread(url: str) -> None:
    engine = make_engine(url)
    try:
        _Base.metadata.create_all(engine)
        sessions = make_sessionmaker(engine)
        with sessions.begin() as session:
            session.add(_Row(id=1, name="main"))

        def write_from_thread() -> None:
            with sessions.begin() as session:
                session.add(_Row(id=2, name="thread"))

        thread = threading.Thread(target=write_from_thread)
        thread.start()
        thread.join(10)
        with sessions() as session:
            names = session.scalars(select(_Row.name).order_by(_Row.id)).all()
        assert names == ["main", "thread"]
        assert _pragmas(engine)["foreign_keys"] == 1
    finally:
        engine.dispose()


def test_sessions_keep_objects_readable_after_commit(tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path, "s"))
    try:
        _Base.metadata.create_all(engine)
        sessions = make_sessionmaker(engine)
        with sessions.begin() as session:
            row = _Row(id=7, name="kept")
            session.add(row)
        # expire_on_commit=False: no DetachedInstanceError after the session closed
        assert (row.id, row.name) == (7, "kept")
    finally:
        engine.dispose()


def test_other_urls_are_not_sqlite() -> None:
    assert is_sqlite("sqlite:///x.db") and is_sqlite("sqlite://")
    assert not is_sqlite("postgresql+psycopg://u@localhost/db")
    engine = make_engine("postgresql+psycopg://user@127.0.0.1:1/nothing")
    try:
        # PostgreSQL is used by URL alone; a restarted server costs no failed request
        assert engine.dialect.name == "postgresql"
        assert engine.pool._pre_ping
    finally:
        engine.dispose()


async def test_run_db_runs_off_the_event_loop() -> None:
    loop_thread = threading.get_ident()
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    def blocking(value: int, *, extra: int) -> tuple[int, int]:
        threading.Event().wait(0.2)  # a slow fsync
        return threading.get_ident(), value + extra

    task = asyncio.create_task(ticker())
    try:
        worker, result = await run_db(blocking, 40, extra=2)
    finally:
        task.cancel()
    assert result == 42
    assert worker != loop_thread
    assert ticks >= 5  # the loop kept running while the work blocked


def test_postgresql_by_url_alone(postgres_url: str) -> None:
    engine = make_engine(postgres_url, pool_size=1, max_overflow=1)
    try:
        assert engine.dialect.name == "postgresql"
        _Base.metadata.create_all(engine)
        sessions = make_sessionmaker(engine)
        with sessions.begin() as session:
            session.add_all([_Row(id=1, name="a"), _Row(id=2, name="b")])
        with engine.connect() as conn:
            pooled = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        # The server drops the pooled connection (a restart would): the next use does not
        # fail, because pool_pre_ping notices and reconnects.
        killer = make_engine(postgres_url)
        with killer.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pooled}).scalar()
        killer.dispose()
        with sessions() as session:
            assert session.scalars(select(_Row.name).order_by(_Row.id)).all() == ["a", "b"]
    finally:
        engine.dispose()
