"""The grid's audit outbox (services/grid/audit.py) on a real SQLite database with an
in-memory ledger: records written in the booking's transaction, sent once and in order,
reconciled (not sent again) after a crash between the ledger's commit and "sent"."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.grid.app import create_app
from services.grid.audit import AuditRecord, AuditTrail, NotYetDecided
from services.grid.db import SlicePrice
from services.grid.settings import GridSettings
from shared.db import sqlite_url
from shared.energy.messages import ProducerOutput, Usage
from shared.ledger_client import Recorded
from shared.settings import SettingsError, load_settings
from tests.unit.test_grid_bookkeeping import S1, S2, Books

ADDRESS = "P" * 81


class FakeLedger:
    """One ledger's transactions in memory, as the gateway lists them (seq_no from 1)."""

    def __init__(self) -> None:
        self.txns: list[dict[str, Any]] = []
        self.down = False
        self.fail_after_commit = False

    async def record(
        self, ledger: str, document: dict[str, Any], *, create: bool = True
    ) -> Recorded:
        if self.down:
            raise httpx.ConnectError("refused")
        self.txns.append(dict(document))
        if self.fail_after_commit:
            # committed, but the answer never arrived (the grid's view of a crash)
            raise ConnectionResetError("the gateway went away")
        return Recorded(ledger, 7, len(self.txns) == 1)

    async def ledger_id(self, name: str) -> int | None:
        if self.down:
            raise httpx.ConnectError("refused")
        return 7 if self.txns else None

    async def find(
        self, ledger_id: int, no: str, *, after_seq_no: int = 0
    ) -> dict[str, Any] | None:
        if self.down:
            raise httpx.ConnectError("refused")
        for seq_no in range(len(self.txns), after_seq_no, -1):
            if self.txns[seq_no - 1]["no"] == no:
                return {"seq_no": seq_no, "txn": self.txns[seq_no - 1]}
        return None

    def nos(self) -> list[str]:
        return [t["no"] for t in self.txns]


def settings(tmp_path: Path) -> GridSettings:
    return GridSettings.model_validate(
        {
            "seed": "A" * 81,
            "data_dir": tmp_path,
            "grid_ledger_url": "http://ledger.test:8100",
            "grid_ledger_public_url": "http://localhost:8100",
            "grid_ledger_password": "ledger-password-1",
            "grid_ledger_ttl": 2,
        }
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def books(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Books]:
    """The outbox on SQLite (the default) and on PostgreSQL (DATABASE_URL)."""
    if request.param == "sqlite":
        url = sqlite_url(tmp_path, "grid")
    else:
        url = request.getfixturevalue("postgres_url")
    state = Books(url)
    yield state
    state.node.close()


def trail(books: Books, tmp_path: Path, fake: FakeLedger) -> AuditTrail:
    audit = AuditTrail(books.sessions, settings(tmp_path), fake)
    books.grid_books.audit = audit.hook
    return audit


def records(books: Books) -> list[AuditRecord]:
    with books.sessions() as session:
        return list(session.scalars(select(AuditRecord).order_by(AuditRecord.id)))


def trade(books: Books) -> None:
    books.register("WIND", "producer")
    books.register("JAKE", "consumer")
    books.read("WIND", ProducerOutput(S1.start, S1.end, 3.0, 100, ADDRESS))
    books.read("JAKE", Usage(S1.start, S1.end, 0.4))
    assert books.settle(S1) == 1


def trade_again(books: Books) -> None:
    """A second slice with usage in it: a second record."""
    books.read("JAKE", Usage(S2.start, S2.end, 0.2))
    assert books.settle(S2) == 1


def test_settling_a_slice_writes_its_record(books: Books, tmp_path: Path) -> None:
    trail(books, tmp_path, FakeLedger())
    trade(books)
    [row] = records(books)
    assert (row.kind, row.ref, row.status, row.attempts) == ("slice", S1.start, "pending", 0)
    document = json.loads(row.document)
    assert document["no"] == row.no and row.no.startswith(f"grid:slice:{S1.start}:")
    assert document["doc_type"] == "SettledSlice" and document["cargo"] == "energy"
    assert (document["departure_station"], document["arrival_station"]) == ("WIND", "JAKE")
    sliced = document["slice"]
    assert sliced["price"] == 100 and sliced["usage"] == pytest.approx(0.4)
    assert sliced["consumers"] == [{"id": "JAKE", "usage": pytest.approx(0.4)}]
    [request] = sliced["requests"]
    assert (request["consumer"], request["owed"], request["amount"]) == ("JAKE", 40, 40)
    assert request["paymentIdOrAddress"] == books.requests("JAKE")[0].payment_id_or_address
    # a slice in which nothing happened (no output, no usage, no request) is not recorded
    books.settle(S2)
    assert len(records(books)) == 1


def test_the_record_commits_with_the_booking_or_not_at_all(books: Books, tmp_path: Path) -> None:
    audit = trail(books, tmp_path, FakeLedger())

    def hook_then_fail(session: Any, kind: str, key: int) -> None:
        audit.hook(session, kind, key)
        raise RuntimeError("crash after the hook, before the commit")

    books.grid_books.audit = hook_then_fail
    books.register("JAKE", "consumer")
    books.read("JAKE", Usage(S1.start, S1.end, 0.4))
    with pytest.raises(RuntimeError):
        books.settle(S1)
    assert records(books) == []
    with books.sessions() as session:
        assert session.get(SlicePrice, S1.start) is None  # the booking rolled back with it


def test_payment_and_payout_records_reference_what_they_pay(books: Books, tmp_path: Path) -> None:
    trail(books, tmp_path, FakeLedger())
    trade(books)
    payment_id = books.pay("JAKE", 40)
    books.grid_books.confirm_payment(payment_id)
    # a second confirmation books (and records) nothing
    books.grid_books.confirm_payment(payment_id)
    [payout] = books.grid_books.open_payouts()
    books.grid_books.mark_payout(payout.id, status="sending")
    books.grid_books.mark_payout(payout.id, status="sent", tail_hash="T" * 81)
    slice_row, payment_row, payout_row = records(books)
    payment = json.loads(payment_row.document)
    assert payment["doc_type"] == "Payment" and payment["refs"] == [slice_row.no]
    assert (payment["departure_station"], payment["arrival_station"]) == ("JAKE", "grid")
    assert payment["payment"]["value"] == 40 and payment["payment"]["cut"] == 8
    assert payment["payment"]["payouts"] == [{"id": payout.id, "producer": "WIND", "amount": 32}]
    paid = json.loads(payout_row.document)
    assert paid["doc_type"] == "Payout" and paid["refs"] == [payment_row.no]
    assert (paid["departure_station"], paid["arrival_station"]) == ("grid", "WIND")
    assert paid["payout"]["amount"] == 32 and paid["payout"]["tailHash"] == "T" * 81


def test_pending_records_are_sent_once_in_order(books: Books, tmp_path: Path) -> None:
    fake = FakeLedger()
    audit = trail(books, tmp_path, fake)
    trade(books)
    trade_again(books)
    assert asyncio.run(audit.send_pending()) == 2
    rows = records(books)
    assert fake.nos() == [row.no for row in rows]
    assert [(row.status, row.seq_no, row.ledger_id) for row in rows] == [
        ("sent", 1, 7),
        ("sent", 2, 7),
    ]
    assert asyncio.run(audit.send_pending()) == 0
    assert len(fake.txns) == 2
    status = audit.status()
    assert status["pending"] == 0 and status["sent"] == 2 and status["lastSeqNo"] == 2
    assert status["recent"][0]["proofUrl"] == "http://localhost:8100/ledgers/7/transactions/2/proof"


def test_a_ledger_that_is_down_keeps_the_records_pending(books: Books, tmp_path: Path) -> None:
    fake = FakeLedger()
    audit = trail(books, tmp_path, fake)
    trade(books)
    trade_again(books)
    fake.down = True
    with pytest.raises(httpx.ConnectError):
        asyncio.run(audit.send_pending())
    rows = records(books)
    assert [row.status for row in rows] == ["pending", "pending"]
    assert rows[0].attempts == 0  # refused before sending: nothing can have committed
    assert rows[0].last_error and "ConnectError" in rows[0].last_error
    fake.down = False
    assert asyncio.run(audit.send_pending()) == 2
    assert fake.nos() == [row.no for row in records(books)]


def test_a_crash_after_the_ledger_committed_is_reconciled_not_sent_again(
    books: Books, tmp_path: Path
) -> None:
    fake = FakeLedger()
    audit = trail(books, tmp_path, fake)
    trade(books)
    trade_again(books)
    fake.fail_after_commit = True
    with pytest.raises(ConnectionResetError):
        asyncio.run(audit.send_pending())
    assert len(fake.txns) == 1 and records(books)[0].status == "pending"
    # the grid restarts: a new trail over the same database finds the record in the ledger
    fake.fail_after_commit = False
    restarted = AuditTrail(books.sessions, settings(tmp_path), fake)
    assert asyncio.run(restarted.send_pending()) == 2
    rows = records(books)
    assert fake.nos() == [row.no for row in rows]  # each exactly once
    assert [row.seq_no for row in rows] == [1, 2]


def test_an_attempt_not_in_the_ledger_is_sent_again_only_after_its_time_to_live(
    books: Books, tmp_path: Path
) -> None:
    fake = FakeLedger()
    audit = trail(books, tmp_path, fake)
    trade(books)
    [row] = records(books)
    audit.mark_attempt(row.id, 1e12)  # an attempt "just now" whose round may still commit
    with pytest.raises(NotYetDecided):
        asyncio.run(audit.send_pending())
    assert fake.txns == []
    audit.mark_attempt(row.id, 1.0, 0)  # long ago: that round was decided (and aborted)
    assert asyncio.run(audit.send_pending()) == 1
    assert fake.nos() == [row.no]
    assert records(books)[0].attempts == 2


def test_half_a_ledger_configuration_stops_the_start_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SEED", "A" * 81)
    for name in ("GRID_LEDGER_URL", "GRID_LEDGER_PASSWORD", "GRID_LEDGER_PASSWORD_FILE"):
        monkeypatch.delenv(name, raising=False)
    assert not load_settings(GridSettings).audit_enabled  # the default: no audit trail
    monkeypatch.setenv("GRID_LEDGER_URL", "http://ledger-grid:8100/")
    with pytest.raises(SettingsError):
        load_settings(GridSettings)
    assert "GRID_LEDGER_PASSWORD: " in capsys.readouterr().err
    monkeypatch.setenv("GRID_LEDGER_PASSWORD", "ledger-password-1")
    loaded = load_settings(GridSettings)
    assert loaded.audit_enabled and loaded.grid_ledger_url == "http://ledger-grid:8100"
    monkeypatch.setenv("GRID_LEDGER_URL", "ftp://nope")
    with pytest.raises(SettingsError):
        load_settings(GridSettings)
    assert "GRID_LEDGER_URL: " in capsys.readouterr().err


def test_get_audit_says_whether_the_trail_is_on(tmp_path: Path) -> None:
    off = settings(tmp_path / "off").model_copy(update={"grid_ledger_url": ""})
    with TestClient(create_app(off, background=False)) as client:
        assert client.get("/audit").json() == {"enabled": False}
    with TestClient(create_app(settings(tmp_path / "on"), background=False)) as client:
        body = client.get("/audit").json()
    assert body["enabled"] is True and body["ledger"] == "grid-settlements"
    assert (body["pending"], body["sent"], body["recent"], body["ledgerUrl"]) == (0, 0, [], None)


class _Killed(Exception):
    """The grid dies between two chunks of a settle."""


def test_a_slice_billed_in_chunks_is_recorded_once_with_every_request(
    books: Books, tmp_path: Path
) -> None:
    trail(books, tmp_path, FakeLedger())
    consumers = [f"CONSUMER{n:04d}" for n in range(5)]
    books.register("WIND", "producer")
    for consumer in consumers:
        books.register(consumer, "consumer")
        books.read(consumer, Usage(S1.start, S1.end, 0.5))
    books.read("WIND", ProducerOutput(S1.start, S1.end, 3.0, 100, ADDRESS))
    addresses = {c: chr(ord("A") + n) * 81 for n, c in enumerate(consumers)}
    seen: list[int] = []
    books.grid_books.settle(S1, addresses, books.book, chunk=2, committed=lambda: seen.append(1))
    assert len(seen) == 3
    [row] = records(books)  # written with the last chunk, not the first
    document = json.loads(row.document)
    assert [r["consumer"] for r in document["slice"]["requests"]] == consumers


def test_a_crash_between_chunks_records_that_slice_with_the_next_settle(
    books: Books, tmp_path: Path
) -> None:
    trail(books, tmp_path, FakeLedger())
    consumers = [f"CONSUMER{n:04d}" for n in range(3)]
    books.register("WIND", "producer")
    for consumer in consumers:
        books.register(consumer, "consumer")
        books.read(consumer, Usage(S1.start, S1.end, 0.5))
    addresses = {c: chr(ord("Q") + n) * 81 for n, c in enumerate(consumers)}

    def killed() -> None:
        raise _Killed

    with pytest.raises(_Killed):
        books.grid_books.settle(S1, addresses, books.book, chunk=2, committed=killed)
    assert records(books) == []  # the last chunk never ran
    # restarted: the next slice bills the rest and records the interrupted slice first
    books.settle(S2)
    kinds = [(row.kind, row.ref) for row in records(books)]
    assert kinds == [("slice", S1.start), ("slice", S2.start)]
    first = json.loads(records(books)[0].document)
    assert [r["consumer"] for r in first["slice"]["requests"]] == consumers[:2]
    second = json.loads(records(books)[1].document)
    assert [r["consumer"] for r in second["slice"]["requests"]] == consumers[2:]
