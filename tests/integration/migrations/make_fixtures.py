"""Make the fixture databases of tests/integration/migrations/data: each store's schema as the
code of main on 2026-12-07 (commit e59404d, before Alembic) created it, with a few rows.

How they were made (run once, from a checkout of that commit, with this file copied in)::

    uv run python -m tests.integration.migrations.make_fixtures

Each database is built in a fresh interpreter (``--one NAME``) that imports only what the
service imports, so ``EnergyBase.metadata`` holds exactly the tables that service's
``create_all`` created. The schema comes from the code's own ``create_all`` calls; the rows
are derived per column (type, name, foreign keys) so that every table has three. Output:

- ``data/<name>.sqlite``: the SQLite file, as the service would have left it;
- ``data/<name>.postgres.sql``: ``pg_dump --inserts`` of the same database built on a
  throwaway PostgreSQL (tests/support/postgres.py), loaded by the tests with ``psql``.

``lock-legacy`` is the lock's schema before seed 004's per-device prefixes (the one
tests/integration/lock/data/lock-schema-v1.sql records) and ``wallet-legacy`` the wallet's
before address reservations (no ``reserved``/``pooled``/``claimed_by``): the two schemas the
hand-written upgrades of that day (services/lock/db.py, shared/iota/wallet.py) handled.

Do not regenerate these after the migrations exist: they are the record of the old schema.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    insert,
)
from sqlalchemy.engine import Engine

DATA = Path(__file__).parent / "data"
ROWS = 3
TRYTES = "9ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# name -> the stores (migration names) whose tables the database holds.
DATABASES: dict[str, list[str]] = {
    "tangle": ["tangle"],
    "channel-agent": ["channel_agent"],
    "lock": ["lock"],
    "lock-legacy": ["lock"],
    "ledger": ["ledger"],
    "grid": ["energy", "grid", "wallet"],
    "producer": ["energy", "producer", "wallet"],
    "consumer": ["energy", "consumer", "wallet"],
    "wind": ["orders", "wallet", "channels", "machine_channels", "energy"],
    "robot": ["orders", "wallet", "channels", "machine_channels"],
    "channels": ["channels", "wallet"],
    "mam": ["mam"],
    "wallet-legacy": ["wallet"],
}


def _metadatas(name: str) -> list[MetaData]:
    """The metadata objects whose ``create_all`` the service of ``name`` ran (today's code)."""
    if name == "tangle":
        from services.devnet.store import metadata

        return [metadata]
    if name == "channel-agent":
        from services.devnet.channel_agent_db import metadata as _meta

        return [_meta]
    if name == "lock":
        from services.lock.db import Base as LockBase

        return [LockBase.metadata]
    if name == "lock-legacy":
        return [_old_lock_metadata()]
    if name == "ledger":
        from services.ledger.store import Base as LedgerBase

        return [LedgerBase.metadata]
    if name in ("grid", "producer", "consumer"):
        __import__(f"services.{name}.app")
        from shared.energy.models import EnergyBase
        from shared.iota.wallet import _Base as WalletBase

        return [EnergyBase.metadata, WalletBase.metadata]
    if name in ("wind", "robot"):
        __import__(f"services.{name}.app")
        from shared.channels.store import Base as ChannelsBase
        from shared.iota.wallet import _Base as WalletBase
        from shared.machine.channel_payment import _meta
        from shared.machine.store import _Base as OrdersBase

        found = [OrdersBase.metadata, WalletBase.metadata, ChannelsBase.metadata, _meta]
        if name == "wind":
            from shared.energy.models import EnergyBase

            found.append(EnergyBase.metadata)
        return found
    if name == "channels":
        __import__("services.channels.app")
        from shared.channels.store import Base as ChannelsBase
        from shared.iota.wallet import _Base as WalletBase

        return [ChannelsBase.metadata, WalletBase.metadata]
    if name == "mam":
        from shared.mam.store import _metadata

        return [_metadata]
    if name == "wallet-legacy":
        return [_old_wallet_metadata()]
    raise SystemExit(f"unknown database {name!r}")


def _old_lock_metadata() -> MetaData:
    """Today's lock tables with the ``tools`` of before per-device prefixes."""
    from services.lock.db import Base as LockBase

    old = MetaData()
    for table in LockBase.metadata.sorted_tables:
        if table.name != "tools":
            table.to_metadata(old)
    Table(
        "tools",
        old,
        Column("id", Integer, primary_key=True),
        Column("name", String(64), nullable=False, unique=True),
        Column("description", Text, nullable=False),
        Column("device_id", String(32), nullable=False),
        Column("lock_index", Integer, nullable=False),
        Column("circle_id", Integer, ForeignKey("circles.id"), nullable=True),
        UniqueConstraint("device_id", "lock_index"),
    )
    return old


def _old_wallet_metadata() -> MetaData:
    """Today's wallet tables without the columns ``_upgrade_schema`` adds."""
    from shared.iota.wallet import _Base as WalletBase

    old = MetaData()
    WalletBase.metadata.tables["wallet_sends"].to_metadata(old)
    today = WalletBase.metadata.tables["wallet_addresses"]
    Table(
        "wallet_addresses",
        old,
        *(
            column.copy()
            for column in today.columns
            if column.name not in ("reserved", "pooled", "claimed_by")
        ),
    )
    return old


def _trytes(label: str, length: int) -> str:
    digest = hashlib.sha256(label.encode()).digest()
    while len(digest) < length:
        digest += hashlib.sha256(digest).digest()
    return "".join(TRYTES[b % 27] for b in digest[:length])


def _value(table: Table, column: Column[Any], i: int) -> Any:
    """A plausible value of ``column`` in row ``i`` (foreign keys point at row ``i``)."""
    for fk in column.foreign_keys:
        target = fk.column
        return _value(target.table, target, i)
    name = column.name.lower()
    kind = column.type
    if isinstance(kind, Boolean):
        return i % 2 == 0
    if isinstance(kind, (Integer, BigInteger)):
        if "index" in name or "position" in name or "sequence" in name:
            return i - 1
        if any(word in name for word in ("value", "amount", "balance", "owed", "tokens")):
            return 1000 * i
        return i
    if isinstance(kind, Float):
        if name.endswith("_at") or "time" in name or name in ("at", "created", "updated"):
            return 1_796_640_000.0 + 60 * i
        return 1.25 * i
    if isinstance(kind, Numeric):
        return Decimal(f"{i}.5")
    if isinstance(kind, DateTime):
        return datetime(2026, 12, 7, 12, i, 0, tzinfo=UTC)
    if isinstance(kind, LargeBinary):
        return hashlib.sha256(f"{table.name}.{name}.{i}".encode()).digest()
    if isinstance(kind, String) and not isinstance(kind, Text):
        length = kind.length or 64
        label = f"{table.name}.{name}.{i}"
        if length in (81, 90) or any(w in name for w in ("address", "hash", "root", "bundle")):
            return _trytes(label, min(length, 81))
        if name in ("state", "status"):
            return ["settled", "attached", "signed"][i % 3][:length]
        text = f"{name}-{i}"
        return text[:length]
    if isinstance(kind, Text):
        if "json" in name or name in ("inputs", "trytes", "metadata", "body", "payload"):
            return json.dumps({"row": i, "table": table.name})
        return f"{name} of row {i}"
    return f"{name}-{i}"


def _fill(engine: Engine, metadatas: list[MetaData]) -> None:
    done: set[str] = set()
    with engine.begin() as conn:
        for metadata in metadatas:
            for table in metadata.sorted_tables:
                if table.name in done:
                    continue
                done.add(table.name)
                rows = [
                    {c.name: _value(table, c, i) for c in table.columns} for i in range(1, ROWS + 1)
                ]
                conn.execute(insert(table), rows)


def build(name: str, url: str) -> None:
    """Create ``name``'s schema with today's code at ``url`` and add the rows."""
    from shared.db import make_engine

    engine = make_engine(url)
    try:
        metadatas = _metadatas(name)
        for metadata in metadatas:
            metadata.create_all(engine)
        if name == "lock":
            from services.lock.db import create_schema

            create_schema(engine, "machine-economy")
        _fill(engine, metadatas)
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--one", help="build one database (internal)")
    parser.add_argument("--url", help="with --one: where")
    parser.add_argument("names", nargs="*", help="only these databases (default: all)")
    args = parser.parse_args()
    if args.one:
        build(args.one, args.url)
        return
    from tests.support.postgres import PostgresServer

    DATA.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="fixtures-pg-"))
    os.chmod(root, 0o755)
    server = PostgresServer(root).start()
    try:
        import psycopg

        for name in args.names or DATABASES:
            sqlite = DATA / f"{name}.sqlite"
            sqlite.unlink(missing_ok=True)
            module = "tests.integration.migrations.make_fixtures"
            here = [sys.executable, "-m", module, "--one", name]
            subprocess.run([*here, "--url", f"sqlite:///{sqlite}"], check=True)
            # One file, no -wal/-shm beside it.
            import sqlite3

            with sqlite3.connect(sqlite) as db:
                db.execute("PRAGMA journal_mode=DELETE")
            database = name.replace("-", "_")
            with psycopg.connect(server.admin_dsn(), autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{database}"')
                admin.execute(f'CREATE DATABASE "{database}"')
            url = server.admin_dsn(database).replace("postgresql://", "postgresql+psycopg://")
            subprocess.run([*here, "--url", url], check=True)
            dump = subprocess.run(
                [
                    str(Path(os.path.realpath(server.bin_dir / "initdb")).parent / "pg_dump"),
                    "--no-owner",
                    "--no-privileges",
                    "--inserts",
                    "--dbname",
                    server.admin_dsn(database),
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            (DATA / f"{name}.postgres.sql").write_text(dump)
            print(f"{name}: {sqlite.name}, {name}.postgres.sql")
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
