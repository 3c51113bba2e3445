"""The payment hot path's SQL: each statement built once, run on the raw cursor on SQLite.

A payment runs three or four statements on each side (the payer in ``payer.py``, the
receiver in ``receiver.py``); building a Core statement and its cache key costs more CPU
than SQLite takes to run it, and Core's execution about 13 us a statement against the
cursor's 1 us (docs/performance.md, bench/channels). Everything else a node does goes
through the ORM.
"""

from __future__ import annotations

import json
from collections import namedtuple
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, insert, select, update
from sqlalchemy.dialects import sqlite as sqlite_dialect

from shared.channels.store import ChannelRow, ReceivedPayment, SentPayment

_CHANNELS = cast(Table, ChannelRow.__table__)
_SENT = cast(Table, SentPayment.__table__)
_RECEIVED = cast(Table, ReceivedPayment.__table__)


class Hot:
    """A statement of the payment hot path, built once.

    On SQLite it runs on the DBAPI cursor, compiled once to the same SQL Core would send:
    Core's execution (parameter processing, result set-up) costs about 13 us a statement
    there, the cursor 1 us, and a payment runs three or four on each side
    (docs/performance.md). Other databases (PostgreSQL, HA mode: ``FOR UPDATE`` kept) go
    through Core. ``json_keys`` are the JSON columns' parameters, serialised as Core's
    JSON type does (``json.dumps``); a SELECT's rows have its columns as attributes.
    """

    def __init__(
        self, statement: Any, *, keys: list[str] | None = None, json_keys: tuple[str, ...] = ()
    ) -> None:
        self.statement = statement
        compiled = statement.compile(dialect=_SQLITE, column_keys=keys)
        self.sql = str(compiled)
        self.order = tuple(compiled.positiontup or ())
        self.json_keys = frozenset(json_keys)
        # Values written in the statement itself (``.values(status="answered")``).
        self.constants = {k: b.value for k, b in compiled.binds.items() if not b.required}
        columns = getattr(statement, "selected_columns", None)
        self.row: Any = None if columns is None else namedtuple("Row", [c.key for c in columns])

    def _args(self, params: dict[str, Any]) -> tuple[Any, ...]:
        json_keys, constants = self.json_keys, self.constants
        values = []
        for key in self.order:
            value = constants[key] if key in constants else params[key]
            values.append(json.dumps(value) if key in json_keys else value)
        return tuple(values)

    def execute(self, conn: Connection, params: dict[str, Any]) -> None:
        if conn.dialect.name != "sqlite":
            conn.execute(self.statement, params)
            return
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(self.sql, self._args(params))
        cursor.close()

    def executemany(self, conn: Connection, params: list[dict[str, Any]]) -> None:
        if conn.dialect.name != "sqlite":
            conn.execute(self.statement, params)
            return
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.executemany(self.sql, [self._args(p) for p in params])
        cursor.close()

    def first(self, conn: Connection, params: dict[str, Any]) -> Any:
        """The first row (attributes named after the columns) or None."""
        if conn.dialect.name != "sqlite":
            return conn.execute(self.statement, params).first()
        assert self.row is not None
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        found = cursor.execute(self.sql, self._args(params)).fetchone()
        cursor.close()
        return None if found is None else self.row._make(found)

    def insert(self, conn: Connection, params: dict[str, Any]) -> int:
        """Insert one row; its new primary key."""
        if conn.dialect.name != "sqlite":
            return _new_id(conn.execute(self.statement, params))
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(self.sql, self._args(params))
        new_id = cursor.lastrowid
        cursor.close()
        assert new_id is not None
        return int(new_id)


_SQLITE = sqlite_dialect.dialect()

# The statements of the payment hot path, built once: building a Core statement and its
# cache key costs more CPU than SQLite takes to run it (bench/channels).
_c, _s, _r = _CHANNELS.c, _SENT.c, _RECEIVED.c
SENT_ANSWERED = Hot(
    update(_SENT)
    .where(_s.id == bindparam("sent_id"))
    .values(status="answered", response=bindparam("answer")),
    json_keys=("answer",),
)
PAYER_ROW = Hot(
    select(
        _c.role,
        _c.period,
        _c.status,
        _c.close_requested,
        _c.my_seq,
        _c.spent_by_me,
        _c.deposited_by_me,
        _c.received,
        _c.peer_url,
        _c.is_peer_ready,
    )
    .where(_c.channel_id == bindparam("cid"))
    .with_for_update()
)
OLDEST_PENDING = (
    select(_s.id, _s.package, _s.message)
    .where(
        _s.channel_id == bindparam("cid"),
        _s.period == bindparam("period"),
        _s.status == "pending",
    )
    .order_by(_s.seq)
    .limit(1)
)
SPEND = Hot(
    update(_CHANNELS)
    .where(_c.channel_id == bindparam("cid"))
    .values(
        my_seq=bindparam("new_seq"), spent_by_me=bindparam("new_spent"), updated_at=bindparam("now")
    )
)
INSERT_SENT = Hot(
    insert(_SENT),
    keys=["channel_id", "period", "seq", "amount", "package", "message", "status", "created_at"],
    json_keys=("package", "message"),
)
_RECEIVER_COLUMNS = (
    _c.role,
    _c.period,
    _c.peer_seq,
    _c.status,
    _c.close_requested,
    _c.received,
    _c.deposited_by_peer,
    _c.spent_by_me,
)
# The definition (a JSON document) is read only until it is cached.
RECEIVER_ROW = Hot(
    select(*_RECEIVER_COLUMNS).where(_c.channel_id == bindparam("cid")).with_for_update()
)
RECEIVER_ROW_DEF = (
    select(*_RECEIVER_COLUMNS, _c.definition)
    .where(_c.channel_id == bindparam("cid"))
    .with_for_update()
)
KNOWN_PACKAGE = select(_r.id, _r.amount, _r.package, _r.answered, _r.response, _r.error).where(
    _r.channel_id == bindparam("cid"), _r.period == bindparam("period"), _r.seq == bindparam("seq")
)
CREDIT = Hot(
    update(_CHANNELS)
    .where(_c.channel_id == bindparam("cid"))
    .values(
        peer_seq=bindparam("new_seq"),
        received=bindparam("new_received"),
        evidence=bindparam("package"),
        updated_at=bindparam("now"),
    ),
    json_keys=("package",),
)
INSERT_RECEIVED = Hot(
    insert(_RECEIVED),
    keys=[
        "channel_id",
        "period",
        "seq",
        "amount",
        "package",
        "answered",
        "response",
        "error",
        "front",
        "created_at",
    ],
    json_keys=("package", "response"),
)


@dataclass(frozen=True)
class Outgoing:
    """A package written by the payer, to deliver (or deliver again)."""

    id: int
    channel_id: str
    package: dict[str, Any]
    message: Any


@dataclass(frozen=True)
class Incoming:
    """A package the receiver recorded, with its answer if given."""

    id: int
    channel_id: str
    amount: int
    answered: bool
    response: Any
    error: str | None


def _new_id(result: Any) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])
