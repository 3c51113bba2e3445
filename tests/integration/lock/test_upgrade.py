"""Upgrading a controller database made before seed 004's per-device prefixes.

The old schema (tests/integration/lock/data/lock-schema-v1.sql, written by that version) had
no ``device_prefix``: a tool's device lived at ``{MQTT_PREFIX}/device/{id}/machine-access``.
After the upgrade the tool's device prefix is ``{MQTT_PREFIX}/{device id}`` (what the
upgraded device is given, docs/lock.md "Upgrading"), and the tool keeps working: its holder,
its events and its bearer tokens survive, and checkin/checkout reach the device.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import (
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    insert,
    inspect,
    select,
)
from sqlalchemy.exc import IntegrityError

from services.lock.db import Base, create_schema
from shared.auth import hash_password, token_digest
from shared.db import make_engine
from tests.integration.lock.conftest import PREFIX, Observer, Processes, state_is

pytestmark = pytest.mark.integration

TOOLS = Base.metadata.tables["tools"]
OLD_SCHEMA = Path(__file__).parent / "data" / "lock-schema-v1.sql"
A = f"{PREFIX}/lock-a"
ALICE_TOKEN = "old-token-of-alice-0123456789"


def _old_database(path: Path) -> None:
    """A database as the previous version left it: a tool on lock-a, held by alice."""
    now = datetime.now(UTC).replace(tzinfo=None)
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        db.executescript(OLD_SCHEMA.read_text())
        db.execute(
            "INSERT INTO accounts VALUES (1, 'alice', ?, ?)", (hash_password("alice-pw-1"), now)
        )
        db.execute("INSERT INTO circles VALUES (1, 'laser', 'laser cutter')")
        db.execute("INSERT INTO circle_members VALUES (1, 1)")
        db.execute("INSERT INTO memberships VALUES (1, 1, ?, ?)", (now, now + timedelta(days=30)))
        db.execute("INSERT INTO tools VALUES (1, 'lasercutter', '', 'lock-a', 1, 1)")
        db.execute("INSERT INTO tools VALUES (2, 'drill', '', 'lock-a', 0, NULL)")
        db.execute("INSERT INTO checkouts VALUES (1, 1, ?, 'old-request')", (now,))
        db.execute(
            "INSERT INTO tokens VALUES (?, 1, ?)",
            (token_digest(ALICE_TOKEN), now + timedelta(days=1)),
        )
        db.execute(
            "INSERT INTO events VALUES (1, ?, 'checkout', 1, 1, 'old-request', 'unlocked')",
            (now,),
        )


def test_tool_stored_under_the_old_layout_keeps_working(
    processes: Processes, observer: Observer
) -> None:
    data = processes.tmp / "old-lock-data"
    _old_database(data / "lock.sqlite")
    processes.device("lock-a", locks=2)  # the upgraded device, prefix {PREFIX}/lock-a
    observer.wait_latest(f"{A}/device/lock-a/online", lambda p: p == b"1")
    ctl = processes.controller(data_dir=data)

    tool = ctl.wait_tool(1, lambda t: t["lock_state"] == "locked" and t["device_online"])
    assert tool["device_prefix"] == A and tool["device_id"] == "lock-a"
    assert tool["holder"] == "alice" and tool["circle"] == "laser"
    assert ctl.tool_state(2)["device_prefix"] == A
    log = ctl.log.read_text()
    assert "event=tools_migrated count=2" in log and "service=lock" in log

    # alice's old token still works; checkin and checkout reach the device on the seed's topics.
    reply = ctl.as_user(ALICE_TOKEN, "POST", "/tools/1/checkin")
    assert reply.status_code == 200, reply.text
    observer.wait_for(f"{A}/machine-access/1/locked", state_is("locked", reply.json()["request"]))
    reply = ctl.as_user(ALICE_TOKEN, "POST", "/tools/1/checkout")
    assert reply.status_code == 200, reply.text
    observer.wait_for(f"{A}/machine-access/1/locked", state_is("unlocked", reply.json()["request"]))
    kinds = [e["kind"] for e in ctl.admin("GET", "/events", params={"tool_id": 1})]
    assert kinds == ["checkout", "checkin", "checkout"]

    # The new uniqueness: one tool per lock of a prefix.
    taken = ctl.http.post(
        "/tools",
        json={"name": "other", "device_id": "lock-a", "lock_index": 1},
        headers={"Authorization": f"Bearer {ctl.admin_token}"},
    )
    assert taken.status_code == 409, taken.text

    # A second start migrates nothing.
    ctl.proc.terminate()
    ctl.proc.wait(10)
    again = processes.controller(data_dir=data)
    again.wait_tool(1, lambda t: t["lock_state"] == "unlocked" and t["holder"] == "alice")
    assert again.log.read_text().count("event=tools_migrated") == 1


def _old_metadata() -> MetaData:
    """The previous version's tables: today's, with the old ``tools`` and without the
    pay-per-use tables (lock_0002 adds them)."""
    old = MetaData()
    for table in Base.metadata.sorted_tables:
        if table.name not in ("tools", "paid_sessions", "tool_payments"):
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


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_schema_upgrade_on_each_database(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'lock.sqlite'}"
        if backend == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    engine = make_engine(url)
    try:
        old = _old_metadata()
        old.create_all(engine)
        with engine.begin() as conn:
            conn.execute(insert(old.tables["circles"]).values(id=1, name="c", description=""))
            conn.execute(
                insert(old.tables["tools"]),
                [
                    {
                        "name": "a",
                        "description": "",
                        "device_id": "d1",
                        "lock_index": 0,
                        "circle_id": None,
                    },
                    {
                        "name": "b",
                        "description": "",
                        "device_id": "d2",
                        "lock_index": 0,
                        "circle_id": 1,
                    },
                ],
            )
        assert create_schema(engine, "root") == 2
        assert create_schema(engine, "root") == 0
        with engine.begin() as conn:
            rows = conn.execute(select(TOOLS).order_by(TOOLS.c.id)).mappings().all()
            assert [(r["device_id"], r["device_prefix"], r["circle_id"]) for r in rows] == [
                ("d1", "root/d1", None),
                ("d2", "root/d2", 1),
            ]
            column = next(
                c for c in inspect(conn).get_columns("tools") if c["name"] == "device_prefix"
            )
            assert column["nullable"] is False
            # The same device id and lock under another prefix is another lock now.
            conn.execute(
                insert(TOOLS).values(
                    name="c", description="", device_id="d1", device_prefix="x/d1", lock_index=0
                )
            )
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(
                insert(TOOLS).values(
                    name="e", description="", device_id="z", device_prefix="root/d1", lock_index=0
                )
            )
    finally:
        engine.dispose()
