"""The grid's audit trail: every settled slice, confirmed payment and sent payout recorded
as a transaction in a ledger kept by the grid, producer and consumer participants
(seed 002, services/ledger), so any of them can audit the money flow.

Not to be confused with :mod:`services.grid.bookkeeping`, the grid's own books.

- **Durable outbox**: :meth:`AuditTrail.hook` runs inside the booking's database
  transaction (``GridBooks.settle``, ``GridBooks.confirm_payment``, ``GridBooks.mark_payout`` with
  ``status="sent"``) and writes the finished ledger document into ``grid_audit_outbox``.
  The record commits with the booking or not at all: a crash loses nothing.
- **In order, once**: :meth:`AuditTrail.run` (a supervised loop) sends pending records
  oldest first with :class:`shared.ledger_client.LedgerClient`, stops at the first failure
  and retries it with :class:`shared.retry.Backoff` while the ledger is down; a record is
  marked ``sent`` with the ledger's id and ``seq_no``.
- **Idempotent after a crash**: each document's ``no`` is unique (``<grid>:<kind>:<key>:
  <random>``). Before the first send a record's ``attempts`` is committed; a record with
  earlier attempts is looked up in the ledger by its ``no`` before it is sent again, and
  sent again only once the earlier attempt's ``time_to_live`` (plus a margin) has passed
  without it appearing: a round that had not decided by then was aborted everywhere, so
  it can no longer commit. (The participants themselves accept a repeated ``no``, as the
  original does: the check is the client's.)
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx
from sqlalchemy import BigInteger, Float, Index, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from services.grid.db import (
    ConsumerUsage,
    MissingQuote,
    Payment,
    PaymentRequestRecord,
    Payout,
    ProducerSlice,
    SlicePrice,
    WaitingMoney,
)
from services.grid.settings import GridSettings
from shared import faults
from shared.db import run_db
from shared.energy.models import EnergyBase
from shared.ledger_client import LedgerClient, Recorded
from shared.retry import Backoff

__all__ = ["AuditRecord", "AuditTrail", "LedgerPort", "slice_no"]

log = logging.getLogger("services.grid.audit")

# After an attempt's time_to_live the ledger's actor has decided; this covers the few
# milliseconds between its decision and its own write, and clock steps.
DECIDED_MARGIN = 5.0
# Records shown by GET /audit.
RECENT = 20


class AuditRecord(EnergyBase):
    """One document for the ledger; ``pending`` until the ledger has it, then ``sent``."""

    __tablename__ = "grid_audit_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    no: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # slice, payment, payout
    ref: Mapped[int] = mapped_column(BigInteger)  # slice start, payment id, payout id
    document: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    attempted_at: Mapped[float | None] = mapped_column(Float, nullable=True)  # Unix seconds
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    ledger_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    seq_no: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)
    sent_at: Mapped[float | None] = mapped_column(Float, nullable=True)

    # One record per booking; seq_no orders GET /audit's latest records.
    __table_args__ = (
        Index("ux_grid_audit_outbox_kind_ref", "kind", "ref", unique=True),
        Index("ix_grid_audit_outbox_seq_no", "seq_no"),
    )


@dataclass(frozen=True, slots=True)
class Pending:
    id: int
    no: str
    document: dict[str, Any]
    attempts: int
    attempted_at: float | None


class LedgerPort(Protocol):
    """What the outbox needs of :class:`shared.ledger_client.LedgerClient` (fakes in tests)."""

    async def record(
        self, ledger: str, document: dict[str, Any], *, create: bool = True
    ) -> Recorded: ...

    async def ledger_id(self, name: str) -> int | None: ...

    async def find(
        self, ledger_id: int, no: str, *, after_seq_no: int = 0
    ) -> dict[str, Any] | None: ...


class NotYetDecided(Exception):
    """An earlier attempt is not in the ledger but could still commit: wait, do not resend."""


def slice_no(grid: str, slice_start: int) -> str:
    """The start of the ``no`` of a slice's record (the random suffix follows)."""
    return f"{grid}:slice:{slice_start}:"


def _iso(stamp: datetime | float) -> str:
    moment = (
        datetime.fromtimestamp(stamp, UTC)
        if isinstance(stamp, float | int)
        else (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC))
    )
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _stations(ids: Sequence[str], fallback: str) -> str:
    return ",".join(ids) if ids else fallback


class AuditTrail:
    """The outbox (hook, database helpers) and its sender loop."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: GridSettings,
        client: LedgerPort | None = None,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.grid = settings.name
        self.ledger_name = settings.grid_ledger_name
        self.ttl = settings.grid_ledger_ttl
        self.client: LedgerPort = client or LedgerClient(
            settings.grid_ledger_url,
            settings.grid_ledger_username,
            (
                settings.grid_ledger_password.get_secret_value()
                if settings.grid_ledger_password
                else ""
            ),
            time_to_live=self.ttl,
        )
        self._ledger_id: int | None = None
        self.last_error: str | None = None

    # -- the outbox (inside the booking's transaction) -------------------------------------

    def hook(self, session: Session, kind: str, key: int) -> None:
        """Write the record of a booking (``GridBooks.audit``); once per (kind, key)."""
        known = session.scalar(
            select(AuditRecord.id).where(AuditRecord.kind == kind, AuditRecord.ref == key)
        )
        if known is not None:
            return
        if kind == "slice":
            document = self._slice_document(session, key)
        elif kind == "payment":
            document = self._payment_document(session, key)
        elif kind == "payout":
            document = self._payout_document(session, key)
        else:
            raise ValueError(f"unknown audit kind {kind!r}")
        if document is None:
            return
        now = time.time()
        no = f"{self.grid}:{kind}:{key}:{secrets.token_hex(4)}"
        document = {"no": no, "date": _iso(now), **document, "grid": self.grid}
        session.add(
            AuditRecord(
                no=no,
                kind=kind,
                ref=key,
                document=json.dumps(document, sort_keys=True),
                created_at=now,
            )
        )

    def _no_of(self, session: Session, kind: str, key: int) -> str | None:
        return session.scalar(
            select(AuditRecord.no).where(AuditRecord.kind == kind, AuditRecord.ref == key)
        )

    def _slice_document(self, session: Session, start: int) -> dict[str, Any] | None:
        row = session.get(SlicePrice, start)
        if row is None:
            return None
        producers = list(
            session.scalars(
                select(ProducerSlice)
                .where(ProducerSlice.slice_start == start)
                .order_by(ProducerSlice.producer_id)
            )
        )
        usage = list(
            session.scalars(
                select(ConsumerUsage)
                .where(ConsumerUsage.slice_start == start)
                .order_by(ConsumerUsage.consumer_id)
            )
        )
        requests = list(
            session.scalars(
                select(PaymentRequestRecord)
                .where(PaymentRequestRecord.slice_start == start)
                .order_by(PaymentRequestRecord.id)
            )
        )
        if not (producers or usage or requests or row.output or row.usage):
            return None  # nothing happened: not worth a consensus round
        missing = list(
            session.scalars(
                select(MissingQuote.producer_id)
                .where(MissingQuote.slice_start == start)
                .order_by(MissingQuote.producer_id)
            )
        )
        document: dict[str, Any] = {
            "cargo": "energy",
            "departure_station": _stations([p.producer_id for p in producers], self.grid),
            "arrival_station": _stations([u.consumer_id for u in usage], self.grid),
            "doc_type": "SettledSlice",
            "slice": {
                "startTime": row.slice_start,
                "endTime": row.slice_end,
                "price": row.price,
                "method": row.method,
                "output": row.output,
                "usage": row.usage,
                "producers": [
                    {
                        "id": p.producer_id,
                        "output": p.output,
                        "price": p.price,
                        "paymentIdOrAddress": p.payment_address,
                    }
                    for p in producers
                ],
                "consumers": [{"id": u.consumer_id, "usage": u.usage} for u in usage],
                "requests": [
                    {
                        "id": r.id,
                        "consumer": r.consumer_id,
                        "usage": r.usage,
                        "amount": r.amount,
                        "owed": r.owed,
                        "paymentIdOrAddress": r.address,
                    }
                    for r in requests
                ],
            },
        }
        if missing:
            # priced after QUOTE_GRACE_SECONDS without these producers' quotes
            document["slice"]["missingQuotes"] = missing
        return document

    def _payment_document(self, session: Session, payment_id: int) -> dict[str, Any] | None:
        payment = session.get(Payment, payment_id)
        if payment is None:
            return None
        request = session.scalars(
            select(PaymentRequestRecord).where(PaymentRequestRecord.address == payment.address)
        ).first()
        payouts = list(
            session.scalars(
                select(Payout).where(Payout.payment_id == payment_id).order_by(Payout.id)
            )
        )
        waiting = int(
            session.scalar(
                select(func.coalesce(func.sum(WaitingMoney.amount), 0)).where(
                    WaitingMoney.payment_id == payment_id
                )
            )
            or 0
        )
        refs = []
        if request is not None:
            slice_ref = self._no_of(session, "slice", request.slice_start)
            if slice_ref is not None:
                refs.append(slice_ref)
        return {
            "cargo": "tokens",
            "departure_station": payment.consumer_id,
            "arrival_station": self.grid,
            "doc_type": "Payment",
            "refs": refs,
            "payment": {
                "id": payment.id,
                "consumer": payment.consumer_id,
                "value": payment.value,
                "cut": payment.cut,
                # what was not earned at confirmation (the consumer's credit) or arrived
                # after the address was swept (late, not counted): docs/grid.md
                "credit": payment.credit,
                "late": payment.late,
                "bundle": payment.bundle,
                "txHash": payment.tx_hash,
                "paymentIdOrAddress": payment.address,
                "request": None
                if request is None
                else {"id": request.id, "sliceStart": request.slice_start},
                "payouts": [
                    {"id": p.id, "producer": p.producer_id, "amount": p.amount} for p in payouts
                ],
                "waiting": waiting,
            },
        }

    def _payout_document(self, session: Session, payout_id: int) -> dict[str, Any] | None:
        payout = session.get(Payout, payout_id)
        if payout is None:
            return None
        refs = []
        if payout.payment_id is not None:
            payment_ref = self._no_of(session, "payment", payout.payment_id)
            if payment_ref is not None:
                refs.append(payment_ref)
        return {
            "cargo": "tokens",
            "departure_station": self.grid,
            "arrival_station": payout.producer_id,
            "doc_type": "Payout",
            "refs": refs,
            "payout": {
                "id": payout.id,
                "producer": payout.producer_id,
                "amount": payout.amount,
                "paymentId": payout.payment_id,
                "address": payout.address,
                "tailHash": payout.tail_hash,
            },
        }

    # -- database helpers (blocking: call through run_db) ----------------------------------

    def pending(self, limit: int = 100) -> list[Pending]:
        with self.sessions() as session:
            return [
                Pending(row.id, row.no, json.loads(row.document), row.attempts, row.attempted_at)
                for row in session.scalars(
                    select(AuditRecord)
                    .where(AuditRecord.status == "pending")
                    .order_by(AuditRecord.id)
                    .limit(limit)
                )
            ]

    def last_seq_no(self) -> int:
        with self.sessions() as session:
            return int(session.scalar(select(func.max(AuditRecord.seq_no))) or 0)

    def mark_attempt(self, record_id: int, at: float | None, step: int = 1) -> None:
        """Count an attempt (committed before the send), or take one back (``step=-1``)."""
        with self.sessions.begin() as session:
            row = session.get(AuditRecord, record_id)
            assert row is not None
            row.attempts += step
            if at is not None:
                row.attempted_at = at

    def mark_sent(self, record_id: int, ledger_id: int, seq_no: int) -> None:
        with self.sessions.begin() as session:
            row = session.get(AuditRecord, record_id)
            assert row is not None
            row.status = "sent"
            row.ledger_id = ledger_id
            row.seq_no = seq_no
            row.sent_at = time.time()
            row.last_error = None

    def mark_error(self, record_id: int, error: str) -> None:
        with self.sessions.begin() as session:
            row = session.get(AuditRecord, record_id)
            if row is not None:
                row.last_error = error[:300]

    def status(self) -> dict[str, Any]:
        """``GET /audit``: where the trail goes, what waits, the latest recorded."""
        public = self.settings.grid_ledger_public_url or self.settings.grid_ledger_url
        with self.sessions() as session:
            counts = dict(
                session.execute(
                    select(AuditRecord.status, func.count()).group_by(AuditRecord.status)
                ).all()
            )
            rows = list(
                session.scalars(
                    select(AuditRecord)
                    .where(AuditRecord.status == "sent")
                    .order_by(AuditRecord.seq_no.desc())
                    .limit(RECENT)
                )
            )
            last_sent = rows[0] if rows else None
        ledger_id = last_sent.ledger_id if last_sent else self._ledger_id
        base = f"{public}/ledgers/{ledger_id}" if ledger_id is not None else None
        return {
            "enabled": True,
            "ledger": self.ledger_name,
            "ledgerId": ledger_id,
            "ledgerUrl": f"{base}/transactions/" if base else None,
            "pending": int(counts.get("pending", 0)),
            "sent": int(counts.get("sent", 0)),
            "lastSeqNo": last_sent.seq_no if last_sent else None,
            "lastError": self.last_error,
            "recent": [
                {
                    "no": row.no,
                    "kind": row.kind,
                    "ref": row.ref,
                    "seqNo": row.seq_no,
                    "sentAt": _iso(row.sent_at) if row.sent_at else None,
                    "proofUrl": (
                        f"{public}/ledgers/{row.ledger_id}/transactions/{row.seq_no}/proof"
                    ),
                }
                for row in rows
            ],
        }

    # -- sending ---------------------------------------------------------------------------

    async def _find(self, no: str, *, newest: bool = False) -> tuple[int, int] | None:
        """(ledger id, seq_no) of the transaction with ``no``, if the ledger has it: among
        those after the last recorded one, or (``newest``: just committed, so on the first
        page) anywhere."""
        if self._ledger_id is None:
            self._ledger_id = await self.client.ledger_id(self.ledger_name)
            if self._ledger_id is None:
                return None
        after = 0 if newest else await run_db(self.last_seq_no)
        item = await self.client.find(self._ledger_id, no, after_seq_no=after)
        return None if item is None else (self._ledger_id, int(item["seq_no"]))

    async def send(self, record: Pending) -> None:
        """Put one record in the ledger exactly once (see the module docstring)."""
        if record.attempts:
            found = await self._find(record.no)
            if found is not None:
                await run_db(self.mark_sent, record.id, *found)
                log.info("event=audit_reconciled no=%s ledger_id=%d seq_no=%d", record.no, *found)
                return
            since = time.time() - (record.attempted_at or 0.0)
            if since < self.ttl + DECIDED_MARGIN:
                raise NotYetDecided(
                    f"record {record.no} may still commit ({since:.1f} s since the attempt)"
                )
        await run_db(self.mark_attempt, record.id, time.time())
        try:
            done = await self.client.record(self.ledger_name, record.document)
        except (httpx.ConnectError, ConnectionRefusedError):
            # Refused before a byte of the request left: this attempt cannot commit.
            await run_db(self.mark_attempt, record.id, None, -1)
            raise
        self._ledger_id = done.ledger_id
        await faults.pause_async("grid.after_record", no=record.no)
        found = await self._find(record.no, newest=True)
        if found is None:
            raise RuntimeError(f"record {record.no} was committed but is not listed")
        await run_db(self.mark_sent, record.id, *found)
        log.info(
            "event=audit_recorded no=%s kind=%s ledger_id=%d seq_no=%d",
            record.no,
            record.document.get("doc_type"),
            *found,
        )

    async def send_pending(self) -> int:
        """Send every pending record, oldest first; stops (raising) at the first failure."""
        sent = 0
        while True:
            batch = await run_db(self.pending)
            if not batch:
                return sent
            for record in batch:
                try:
                    await self.send(record)
                except Exception as error:
                    self.last_error = f"{type(error).__name__}: {error}"[:300]
                    await run_db(self.mark_error, record.id, self.last_error)
                    raise
                sent += 1
            self.last_error = None

    async def run(self) -> None:
        """The supervised loop: send what is pending, back off while the ledger is down."""
        backoff = Backoff(0.5, 30.0)
        while True:
            try:
                await self.send_pending()
            except NotYetDecided as error:
                log.info("event=audit_waiting reason=%s", str(error)[:200])
                await asyncio.sleep(1.0)
                continue
            except Exception as error:
                delay = backoff.next_delay()
                log.warning(
                    "event=audit_send_failed error=%s retry_in=%.2fs",
                    f"{type(error).__name__}: {error}"[:200],
                    delay,
                )
                await asyncio.sleep(delay)
                continue
            backoff.reset()
            await asyncio.sleep(self.settings.poll_seconds)
