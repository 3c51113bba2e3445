"""The channel agent hosted by the devnet: seed 003's Autonomous Agent for our tangle.

Legacy IOTA has no scripts, so the devnet runs the agent beside its coordinator. It
owns one escrow address per channel and period (derived from the channel definition,
the period and ``DEVNET_CHANNEL_AGENT_SECRET``), reads what reached those addresses
**only from milestone-confirmed transactions**, in milestone order, with the
milestone's timestamp as its clock, and feeds them to the pure rules in
``shared.channels.rules``. A settlement is paid with an ordinary signed bundle that
spends the escrow once.

Crash safety: the agent's own database (``channel_agent.db`` in the devnet's data
directory, or ``DEVNET_CHANNEL_AGENT_DATABASE_URL``) holds every channel's state and
the last milestone it processed, written in one transaction per batch. A payout bundle
is signed and **stored in that database before it is attached**; after a crash the
same signed bundle is attached again (same signature, so the escrow's key never signs
twice), never a new one.

Anything malformed, unsigned or out of order is logged (``event=channel_ignored``) and
changes nothing; the loop never stops on bad input.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    insert,
    select,
    update,
)

from services.devnet import store as tangle_store
from services.devnet.node import DevnetNode
from shared.channels.rules import (
    ChannelDefinition,
    ChannelState,
    Clock,
    Command,
    Deposit,
    RuleError,
    Settlement,
    apply,
    deposit_command,
    escrow_seed,
    mark_issued,
)
from shared.db import make_engine, sqlite_url
from shared.iota.bundle import Input, Output, build_bundle
from shared.iota.signing import address_of
from shared.iota.text import TrytesDecodeError, trytes_to_text
from shared.iota.transaction import parse_many
from shared.migrations import Store, upgrade
from shared.settings import load_settings
from shared.tasks import Supervisor

__all__ = [
    "ChannelAgent",
    "ChannelAgentHost",
    "ChannelAgentSettings",
    "UnknownChannel",
]

log = logging.getLogger("devnet.channels")

PAYOUT_TAG = "CHANNEL9PAYOUT"
# A command's JSON fits in a few transactions; more is not a command.
_MAX_MESSAGE_TRYTES = 2187


class ChannelAgentSettings(BaseSettings):
    """``DEVNET_CHANNEL_AGENT_*`` settings (see docs/channels.md)."""

    model_config = SettingsConfigDict(env_prefix="DEVNET_CHANNEL_AGENT_", extra="ignore")

    enabled: bool = True
    secret: SecretStr | None = None  # default: derived from DEVNET_COORDINATOR_SEED
    database_url: str | None = None
    interval: float = Field(0.2, gt=0, le=60)
    max_channels: int = Field(10_000, ge=1)


class UnknownChannel(LookupError):
    pass


_meta = MetaData()
agent_channels = Table(
    "agent_channels",
    _meta,
    Column("channel_id", String(64), primary_key=True),
    Column("state", Text, nullable=False),  # ChannelState JSON
    Column("pending", Boolean, nullable=False, default=False),  # a payout to issue
    Column("created_at", BigInteger, nullable=False),
)
agent_escrows = Table(
    "agent_escrows",
    _meta,
    Column("address", String(81), primary_key=True),
    Column("channel_id", String(64), nullable=False, index=True),
    Column("period", Integer, nullable=False),
)
agent_payouts = Table(
    "agent_payouts",
    _meta,
    Column("escrow", String(81), primary_key=True),  # one payout per escrow, ever
    Column("channel_id", String(64), nullable=False, index=True),
    Column("period", Integer, nullable=False),
    Column("settlement", Text, nullable=False),
    Column("trytes", Text, nullable=False),  # JSON list, tail first, signed, unattached
    Column("bundle", String(81), nullable=False),
    Column("submitted", Boolean, nullable=False, default=False),
)
agent_events = Table(
    "agent_events",
    _meta,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel_id", String(64), nullable=False, index=True),
    Column("milestone", Integer, nullable=False),
    Column("period", Integer, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("accepted", Boolean, nullable=False),
    Column("reason", String(64), nullable=False),
    Column("bundle", String(81), nullable=False),
)
# Every deposit counted, by what arrived: the (escrow, bundle) pair is counted once, however
# often the bundle is reattached (a reattachment has new transaction hashes, the same bundle).
agent_deposits = Table(
    "agent_deposits",
    _meta,
    Column("escrow", String(81), primary_key=True),
    Column("bundle", String(81), primary_key=True),
    Column("channel_id", String(64), nullable=False, index=True),
    Column("period", Integer, nullable=False),
    Column("value", BigInteger, nullable=False),
    Column("milestone", Integer, nullable=False),
)
agent_meta = Table(
    "agent_meta",
    _meta,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)


# The channel agent's own database: migrations in services/devnet/migrations/channel_agent.
STORE = Store("channel_agent", Path(__file__).parent / "migrations" / "channel_agent", _meta)


@dataclass(frozen=True)
class _Item:
    """A deposit (a value bundle the ledger applied to an escrow: its value counted once) or
    one command transaction (read on its own: its message is the whole command)."""

    milestone: int
    escrow: str
    bundle: str
    value: int  # > 0: a deposit, what the ledger moved to the escrow in this bundle
    # A command: its own message. A deposit: every message of the bundle's transactions to
    # the escrow (any attachment), each one read on its own, in a deterministic order.
    messages: tuple[str, ...]
    stamp: int  # the bundle's timestamp: orders the items of one milestone
    attached: int  # attachment timestamp (ms), then
    tx: str  # the transaction hash, last

    @property
    def order(self) -> tuple[int, int, int, str, str]:
        return (self.milestone, self.stamp, self.attached, self.bundle, self.tx)


def _decode_envelope(message: str) -> Any:
    """The JSON in a command's message trytes, or None when it is not JSON."""
    if len(message) > _MAX_MESSAGE_TRYTES:
        return None
    try:
        text = trytes_to_text(message)
        return json.loads(text) if text else None
    except (TrytesDecodeError, ValueError, RecursionError):
        return None


class ChannelAgent:
    """Registers channels, processes confirmed milestones, issues payouts (thread-safe)."""

    def __init__(self, node: DevnetNode, secret: str, database_url: str, max_channels: int) -> None:
        self.node = node
        self._secret = secret.encode()
        self.max_channels = max_channels
        self.engine = make_engine(database_url)
        upgrade(self.engine, STORE)
        self._lock = threading.RLock()
        self._addresses: dict[tuple[str, int], str] = {}

    @classmethod
    def from_settings(
        cls, node: DevnetNode, settings: ChannelAgentSettings, data_dir: Path, fallback: str
    ) -> ChannelAgent:
        """``fallback`` (the coordinator seed) derives the secret when none is set."""
        if settings.secret is not None:
            secret = settings.secret.get_secret_value()
        else:
            secret = hashlib.sha256(f"devnet-channel-agent/v1/{fallback}".encode()).hexdigest()
        url = settings.database_url or sqlite_url(data_dir, "channel_agent")
        return cls(node, secret, url, settings.max_channels)

    def close(self) -> None:
        self.engine.dispose()

    # -- escrows ------------------------------------------------------------

    def escrow(self, channel_id: str, period: int) -> str:
        key = (channel_id, period)
        if key not in self._addresses:
            seed = escrow_seed(self._secret, channel_id, period)
            self._addresses[key] = address_of(seed, 0, 2)
        return self._addresses[key]

    # -- API ------------------------------------------------------------------

    def register(self, definition: ChannelDefinition) -> dict[str, Any]:
        """Start watching a channel (idempotent); its summary with the current escrow."""
        cid = definition.channel_id
        with self._lock, self.engine.begin() as conn:
            known = conn.execute(
                select(agent_channels.c.state).where(agent_channels.c.channel_id == cid)
            ).first()
            if known is None:
                count = conn.execute(select(func.count()).select_from(agent_channels)).scalar()
                if (count or 0) >= self.max_channels:
                    raise RuleError(f"the agent watches {self.max_channels} channels at most")
                state = ChannelState(
                    definition, last_milestone=self.node.tangle.latest_milestone_index
                )
                conn.execute(
                    insert(agent_channels).values(
                        channel_id=cid,
                        state=json.dumps(state.to_json()),
                        pending=False,
                        created_at=int(time.time()),
                    )
                )
                conn.execute(
                    insert(agent_escrows).values(
                        address=self.escrow(cid, 1), channel_id=cid, period=1
                    )
                )
                log.info("event=channel_registered channel=%s", cid[:16])
        return self.summary(cid)

    def summary(self, channel_id: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(agent_channels.c.state).where(agent_channels.c.channel_id == channel_id)
            ).first()
            if row is None:
                raise UnknownChannel(channel_id)
            payouts = conn.execute(
                select(agent_payouts).where(agent_payouts.c.channel_id == channel_id)
            ).all()
            events = conn.execute(
                select(agent_events)
                .where(agent_events.c.channel_id == channel_id)
                .order_by(agent_events.c.id.desc())
                .limit(20)
            ).all()
            cursor = self._cursor(conn)
        state = ChannelState.from_json(json.loads(row[0]))
        close_ts = state.close_timestamp
        return {
            "channel_id": channel_id,
            "definition": state.definition.to_json(),
            "period": state.period,
            "status": state.status,
            "escrow": self.escrow(channel_id, state.period),
            "deposits": state.deposits,
            "refunds": state.refunds,
            "stray": state.stray,
            "initiator": state.initiator,
            "claims": state.spent,
            "close_timestamp": close_ts,
            "confirmable_at": None if close_ts is None else close_ts + state.definition.timeout,
            "milestone": cursor[0],
            "milestone_timestamp": cursor[1],
            "pending": [s.to_json() for s in state.pending],
            "payouts": [
                {
                    "period": p.period,
                    "escrow": p.escrow,
                    "bundle": p.bundle,
                    "submitted": p.submitted,
                    **{k: v for k, v in json.loads(p.settlement).items() if k != "channel_id"},
                }
                for p in sorted(payouts, key=lambda p: p.period)
            ],
            "events": [
                {
                    "milestone": e.milestone,
                    "period": e.period,
                    "kind": e.kind,
                    "accepted": e.accepted,
                    "reason": e.reason,
                    "bundle": e.bundle,
                }
                for e in events
            ],
        }

    # -- the loop -------------------------------------------------------------

    def _cursor(self, conn: Any) -> tuple[int, int]:
        rows = dict(
            conn.execute(
                select(agent_meta.c.key, agent_meta.c.value).where(
                    agent_meta.c.key.in_(["milestone", "milestone_timestamp"])
                )
            ).all()
        )
        return int(rows.get("milestone", 0)), int(rows.get("milestone_timestamp", 0))

    def step(self) -> int:
        """Process every milestone confirmed since the last step, then pay settlements.

        Returns the number of escrow items processed.
        """
        with self._lock:
            processed = self._process_milestones()
            self._pay_pending()
            return processed

    def _process_milestones(self) -> int:
        tangle = self.node.tangle
        latest = tangle.store.latest_milestones(1)
        if not latest:
            return 0
        latest_index, _hash, latest_ts = latest[0]
        with self.engine.connect() as conn:
            cursor, _ = self._cursor(conn)
            if latest_index <= cursor:
                return 0
            escrows = {
                address: (cid, period)
                for address, cid, period in conn.execute(
                    select(
                        agent_escrows.c.address, agent_escrows.c.channel_id, agent_escrows.c.period
                    )
                ).all()
            }
        items = self._confirmed_items(escrows, cursor, latest_index)
        with tangle.lock:
            # Under the ledger's lock: memory has applied every milestone the store shows
            # (at least ``latest_index``), so a deposit read above is in these balances.
            balances = {
                item.escrow: tangle.confirmed_balance(item.escrow)
                for item in items
                if item.value > 0
            }
        stamps = self._milestone_stamps({item.milestone for item in items})
        states: dict[str, ChannelState] = {}
        new_escrows: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        with self.engine.begin() as conn:
            credited = self._credited(conn, list(balances))
            paid = self._paid_escrows(conn, list(balances))
            for item in items:
                cid, period = escrows[item.escrow]
                if cid not in states:
                    raw = conn.execute(
                        select(agent_channels.c.state).where(agent_channels.c.channel_id == cid)
                    ).scalar_one()
                    states[cid] = ChannelState.from_json(json.loads(raw))
                state = states[cid]
                clock = Clock(item.milestone, stamps[item.milestone])
                event: Deposit | Command
                if item.value > 0:
                    key = (item.escrow, item.bundle)
                    if key in credited:
                        # A reattachment (or a copy) of a bundle already counted.
                        events.append(
                            self._event(cid, item, period, "deposit", False, "already_counted")
                        )
                        self._log(False, cid, period, item, "deposit", "already_counted")
                        continue
                    total = sum(v for (escrow, _b), v in credited.items() if escrow == item.escrow)
                    if item.escrow not in paid and total + item.value > balances[item.escrow]:
                        # Never credit more than the escrow holds (cannot happen while the
                        # ledger applies each bundle once: a safety net, loudly logged).
                        log.error(
                            "event=channel_deposit_exceeds_escrow channel=%s escrow=%s "
                            "credited=%d value=%d balance=%d",
                            cid[:16],
                            item.escrow[:16],
                            total,
                            item.value,
                            balances[item.escrow],
                        )
                        events.append(
                            self._event(
                                cid, item, period, "deposit", False, "exceeds_escrow_balance"
                            )
                        )
                        continue
                    credited[key] = item.value
                    conn.execute(
                        insert(agent_deposits).values(
                            escrow=item.escrow,
                            bundle=item.bundle,
                            channel_id=cid,
                            period=period,
                            value=item.value,
                            milestone=item.milestone,
                        )
                    )
                    envelopes = [_decode_envelope(m) for m in item.messages]
                    event = Deposit(period, item.value, deposit_command(state, envelopes, period))
                    kind = "deposit"
                elif period != state.period:
                    # A command to an old period's escrow: for another period, ignored.
                    events.append(self._event(cid, item, period, "command", False, "wrong_period"))
                    continue
                else:
                    envelope = _decode_envelope(item.messages[0])
                    event = Command(envelope)
                    body = envelope.get("body") if isinstance(envelope, dict) else None
                    kind = str(body.get("type"))[:32] if isinstance(body, dict) else "malformed"
                new_state, outcome = apply(state, event, clock)
                states[cid] = new_state
                events.append(
                    self._event(cid, item, period, kind, outcome.accepted, outcome.reason)
                )
                self._log(outcome.accepted, cid, period, item, kind, outcome.reason)
                if outcome.settlement is not None:
                    s = outcome.settlement
                    log.info(
                        "event=channel_settled channel=%s period=%d reason=%s total=%d",
                        cid[:16],
                        s.period,
                        s.reason,
                        s.total,
                    )
                    new_escrows.append(
                        {
                            "address": self.escrow(cid, new_state.period),
                            "channel_id": cid,
                            "period": new_state.period,
                        }
                    )
            for cid, state in states.items():
                conn.execute(
                    update(agent_channels)
                    .where(agent_channels.c.channel_id == cid)
                    .values(state=json.dumps(state.to_json()), pending=bool(state.pending))
                )
            if new_escrows:
                conn.execute(insert(agent_escrows), new_escrows)
            if events:
                conn.execute(insert(agent_events), events)
            self._set_cursor(conn, latest_index, latest_ts)
        return len(items)

    @staticmethod
    def _log(accepted: bool, cid: str, period: int, item: _Item, kind: str, reason: str) -> None:
        log.log(
            logging.INFO if accepted else logging.WARNING,
            "event=%s channel=%s period=%d milestone=%d kind=%s reason=%s bundle=%s tx=%s",
            "channel_event" if accepted else "channel_ignored",
            cid[:16],
            period,
            item.milestone,
            kind,
            reason,
            item.bundle[:16],
            item.tx[:16],
        )

    @staticmethod
    def _credited(conn: Any, escrows: list[str]) -> dict[tuple[str, str], int]:
        """(escrow, bundle) -> value of every deposit already counted on ``escrows``."""
        found: dict[tuple[str, str], int] = {}
        for start in range(0, len(escrows), 500):
            rows = conn.execute(
                select(
                    agent_deposits.c.escrow, agent_deposits.c.bundle, agent_deposits.c.value
                ).where(agent_deposits.c.escrow.in_(escrows[start : start + 500]))
            ).all()
            found.update({(e, b): int(v) for e, b, v in rows})
        return found

    @staticmethod
    def _paid_escrows(conn: Any, escrows: list[str]) -> set[str]:
        """The escrows among ``escrows`` whose payout is signed (spent, or about to be)."""
        found: set[str] = set()
        for start in range(0, len(escrows), 500):
            found.update(
                conn.execute(
                    select(agent_payouts.c.escrow).where(
                        agent_payouts.c.escrow.in_(escrows[start : start + 500])
                    )
                ).scalars()
            )
        return found

    @staticmethod
    def _event(
        cid: str, item: _Item, period: int, kind: str, accepted: bool, reason: str
    ) -> dict[str, Any]:
        return {
            "channel_id": cid,
            "milestone": item.milestone,
            "period": period,
            "kind": kind,
            "accepted": accepted,
            "reason": reason[:64],
            "bundle": item.bundle,
        }

    @staticmethod
    def _set_cursor(conn: Any, index: int, timestamp: int) -> None:
        for key, value in (("milestone", index), ("milestone_timestamp", timestamp)):
            changed = conn.execute(
                update(agent_meta).where(agent_meta.c.key == key).values(value=str(value))
            ).rowcount
            if not changed:
                conn.execute(insert(agent_meta).values(key=key, value=str(value)))

    def _confirmed_items(
        self, escrows: dict[str, tuple[str, int]], after: int, upto: int
    ) -> list[_Item]:
        """Deposits and commands to ``escrows`` confirmed by milestones (after, upto], in order.

        A **deposit** is a value bundle the ledger applied, identified by its bundle hash and
        what it moved to the escrow (never by transaction hash: a reattachment has new
        hashes). Its value comes from the ledger's own record (``value_bundles``), so it
        is counted as the ledger counted it: once. Each of the bundle's transactions to the
        escrow is a candidate for the signed deposit message, read on its own.

        A **command** is one zero-value transaction, outside any value bundle, read on its
        own: anybody can attach a transaction with any bundle hash (the hash does not cover
        the message), so transactions are never joined; the signature inside the message
        authenticates it. Identical copies (a reattachment) are read once per batch.

        Order: confirming milestone, the bundle's timestamp, the attachment timestamp,
        the bundle hash, the transaction hash (deterministic for one milestone).
        """
        t = tangle_store.transactions
        rows: list[Any] = []
        addresses = list(escrows)
        store = self.node.tangle.store
        with store.engine.connect() as conn:
            for start in range(0, len(addresses), 500):
                chunk = addresses[start : start + 500]
                rows += conn.execute(
                    select(t.c.trytes, t.c.milestone).where(
                        t.c.address.in_(chunk), t.c.milestone > after, t.c.milestone <= upto
                    )
                ).all()
            if not rows:
                return []
            parsed = parse_many([r[0] for r in rows]).transactions
            moves = self._value_bundles(conn, sorted({tx.bundle for tx in parsed}))
            deposit_keys = sorted(
                {(tx.bundle, tx.address) for tx in parsed if tx.value > 0 and tx.bundle in moves}
            )
            messages = self._bundle_messages(conn, deposit_keys)
        items: list[_Item] = []
        seen_commands: set[tuple[str, str]] = set()
        seen_deposits: set[tuple[str, str]] = set()
        for tx, row in sorted(
            zip(parsed, rows, strict=True),
            key=lambda p: (int(p[1][1]), p[0].timestamp, p[0].attachment_timestamp, p[0].hash),
        ):
            milestone = int(row[1])
            if tx.bundle in moves:
                applied, bundle_moves = moves[tx.bundle]
                key = (tx.bundle, tx.address)
                if tx.value <= 0 or key in seen_deposits:
                    continue  # the escrow spending (a payout), or a message continuation
                if applied is None:
                    # Confirmed, but the ledger has not applied the bundle: nothing arrived.
                    log.warning(
                        "event=channel_deposit_not_applied bundle=%s escrow=%s",
                        tx.bundle[:16],
                        tx.address[:16],
                    )
                    continue
                seen_deposits.add(key)
                value = sum(v for a, v in bundle_moves if a == tx.address)
                if value <= 0:
                    continue
                items.append(
                    _Item(
                        milestone=milestone,
                        escrow=tx.address,
                        bundle=tx.bundle,
                        value=value,
                        messages=tuple(messages.get(key, [tx.signature_message_fragment])),
                        stamp=tx.timestamp,
                        attached=tx.attachment_timestamp,
                        tx=tx.hash,
                    )
                )
            elif tx.value == 0:
                fragment = tx.signature_message_fragment
                identity = (tx.bundle, fragment)
                if identity in seen_commands:
                    continue
                seen_commands.add(identity)
                items.append(
                    _Item(
                        milestone=milestone,
                        escrow=tx.address,
                        bundle=tx.bundle,
                        value=0,
                        messages=(fragment,),
                        stamp=tx.timestamp,
                        attached=tx.attachment_timestamp,
                        tx=tx.hash,
                    )
                )
        items.sort(key=lambda i: i.order)
        return items

    @staticmethod
    def _value_bundles(
        conn: Any, bundles: list[str]
    ) -> dict[str, tuple[int | None, list[tuple[str, int]]]]:
        """bundle -> (milestone the ledger applied it in or None, its moves), value bundles only."""
        vb = tangle_store.value_bundles
        found: dict[str, tuple[int | None, list[tuple[str, int]]]] = {}
        for start in range(0, len(bundles), 500):
            for bundle, raw, milestone in conn.execute(
                select(vb.c.bundle, vb.c.moves, vb.c.milestone).where(
                    vb.c.bundle.in_(bundles[start : start + 500])
                )
            ).all():
                found[bundle] = (
                    None if milestone is None else int(milestone),
                    [(str(a), int(v)) for a, v in json.loads(raw)],
                )
        return found

    @staticmethod
    def _bundle_messages(
        conn: Any, keys: list[tuple[str, str]]
    ) -> dict[tuple[str, str], list[str]]:
        """(bundle, escrow) -> the message of each of its transactions to the escrow, any
        attachment, in the order they reached the devnet (then current index, hash): a
        copy of a transaction can only be made after the original was stored."""
        if not keys:
            return {}
        t = tangle_store.transactions
        wanted = set(keys)
        found: dict[tuple[str, str], list[tuple[int, int, str, str]]] = {}
        bundles = sorted({b for b, _ in keys})
        for start in range(0, len(bundles), 500):
            rows = conn.execute(
                select(t.c.trytes, t.c.arrival).where(t.c.bundle.in_(bundles[start : start + 500]))
            ).all()
            parsed = parse_many([r[0] for r in rows]).transactions
            for tx, row in zip(parsed, rows, strict=True):
                if (tx.bundle, tx.address) in wanted:
                    found.setdefault((tx.bundle, tx.address), []).append(
                        (int(row[1]), tx.current_index, tx.hash, tx.signature_message_fragment)
                    )
        return {key: [entry[3] for entry in sorted(txs)] for key, txs in found.items()}

    def _milestone_stamps(self, indexes: Iterable[int]) -> dict[int, int]:
        wanted = sorted(set(indexes))
        if not wanted:
            return {}
        m = tangle_store.milestones
        with self.node.tangle.store.engine.connect() as conn:
            rows = conn.execute(select(m.c.idx, m.c.timestamp).where(m.c.idx.in_(wanted))).all()
        return {int(i): int(ts) for i, ts in rows}

    # -- payouts --------------------------------------------------------------

    def _pay_pending(self) -> None:
        with self.engine.connect() as conn:
            unsent = conn.execute(
                select(agent_payouts).where(agent_payouts.c.submitted.is_(False))
            ).all()
            rows = conn.execute(
                select(agent_channels).where(agent_channels.c.pending.is_(True))
            ).all()
        for payout in unsent:
            self._submit(payout.escrow, payout.bundle, json.loads(payout.trytes))
        for row in rows:
            state = ChannelState.from_json(json.loads(row.state))
            for settlement in state.pending:
                self._issue(row.channel_id, settlement)

    def _issue(self, cid: str, settlement: Settlement) -> None:
        escrow = self.escrow(cid, settlement.period)
        tangle = self.node.tangle
        balance = tangle.confirmed_balance(escrow)
        if settlement.total and balance != settlement.total:
            # More than the rules know of: a deposit the next step will process first.
            # Less: something is wrong; never sign a bundle the node would refuse.
            level = logging.INFO if balance > settlement.total else logging.ERROR
            log.log(
                level,
                "event=channel_payout_waiting channel=%s period=%d balance=%d total=%d",
                cid[:16],
                settlement.period,
                balance,
                settlement.total,
            )
            return
        if escrow in tangle.spent:
            log.error("event=channel_escrow_already_spent channel=%s escrow=%s", cid[:16], escrow)
            return
        trytes: list[str] = []
        bundle = ""
        if settlement.total:
            seed = escrow_seed(self._secret, cid, settlement.period)
            trytes = build_bundle(
                [Output(address, value, PAYOUT_TAG) for address, value in settlement.outputs],
                [Input(escrow, balance, seed, 0, 2)],
            )
            bundle = parse_many(trytes[:1], with_hashes=False).transactions[0].bundle
        with self.engine.begin() as conn:
            raw = conn.execute(
                select(agent_channels.c.state)
                .where(agent_channels.c.channel_id == cid)
                .with_for_update()
            ).scalar_one()
            state = mark_issued(ChannelState.from_json(json.loads(raw)), settlement.period)
            conn.execute(
                update(agent_channels)
                .where(agent_channels.c.channel_id == cid)
                .values(state=json.dumps(state.to_json()), pending=bool(state.pending))
            )
            # The primary key (the escrow) makes a second payout of one escrow impossible.
            conn.execute(
                insert(agent_payouts).values(
                    escrow=escrow,
                    channel_id=cid,
                    period=settlement.period,
                    settlement=json.dumps(settlement.to_json()),
                    trytes=json.dumps(trytes),
                    bundle=bundle,
                    submitted=not trytes,
                )
            )
        log.info(
            "event=channel_payout_signed channel=%s period=%d bundle=%s outputs=%d total=%d",
            cid[:16],
            settlement.period,
            bundle[:16] or "-",
            len(settlement.outputs),
            settlement.total,
        )
        if trytes:
            self._submit(escrow, bundle, trytes)

    def _submit(self, escrow: str, bundle: str, trytes: list[str]) -> None:
        """Attach and store the signed payout (again after a crash: the same signature)."""
        if not self.node.tangle.store.find("bundle", [bundle], 1):
            # attach_and_store wants head first, as attachToTangle does.
            self.node.attach_and_store(list(reversed(trytes)))
        with self.engine.begin() as conn:
            conn.execute(
                update(agent_payouts).where(agent_payouts.c.escrow == escrow).values(submitted=True)
            )
        log.info("event=channel_payout_submitted escrow=%s bundle=%s", escrow[:16], bundle[:16])


class ChannelAgentHost:
    """The agent's place in the devnet app: settings, the supervised loop, the HTTP routes."""

    def __init__(self, data_dir: Path, fallback_secret: str) -> None:
        self.settings = load_settings(ChannelAgentSettings)
        self.data_dir = data_dir
        self._fallback = fallback_secret
        self.agent: ChannelAgent | None = None
        self.supervisor = Supervisor("devnet-channels")

    async def start(self, node: DevnetNode) -> None:
        if not self.settings.enabled:
            log.info("event=channel_agent_disabled")
            return
        self.agent = await asyncio.to_thread(
            ChannelAgent.from_settings, node, self.settings, self.data_dir, self._fallback
        )
        self.supervisor.start("channel-agent", self._run)
        log.info("event=channel_agent_started interval=%s", self.settings.interval)

    async def _run(self) -> None:
        assert self.agent is not None
        while True:
            await asyncio.to_thread(self.agent.step)
            await asyncio.sleep(self.settings.interval)

    async def stop(self) -> None:
        await self.supervisor.stop()
        if self.agent is not None:
            self.agent.close()

    @property
    def router(self) -> APIRouter:
        router = APIRouter(
            prefix="/channels",
            tags=["channels"],
            responses={503: {"description": "the channel agent is not running"}},
        )

        def agent() -> ChannelAgent:
            if self.agent is None:
                raise HTTPException(503, "the channel agent is not running")
            return self.agent

        @router.post("", responses={400: {"description": "not a valid channel definition"}})
        async def register(payload: RegisterRequest) -> JSONResponse:
            """Register a channel definition (idempotent): its id, period and escrow address."""
            try:
                definition = ChannelDefinition.from_json(payload.definition)
                summary = await asyncio.to_thread(agent().register, definition)
            except RuleError as error:
                return JSONResponse({"error": str(error)}, status_code=400)
            return JSONResponse(summary)

        @router.get(
            "/{channel_id}",
            responses={
                400: {"description": "not a channel id (64 lowercase hex)"},
                404: {"description": "unknown channel"},
            },
        )
        async def channel(
            channel_id: Annotated[str, PathParam(json_schema_extra={"pattern": _ID_PATTERN})],
        ) -> JSONResponse:
            """A channel as the agent sees it: period, status, escrow, deposits, claims, payouts."""
            if not _CHANNEL_ID.match(channel_id):
                return JSONResponse(
                    {"error": "channel id must be 64 lowercase hex characters"}, status_code=400
                )
            try:
                summary = await asyncio.to_thread(agent().summary, channel_id)
            except UnknownChannel:
                return JSONResponse({"error": "unknown channel"}, status_code=404)
            return JSONResponse(summary)

        return router


class RegisterRequest(BaseModel):
    """POST /channels body."""

    definition: Any = None


_ID_PATTERN = "^[0-9a-f]{64}$"
_CHANNEL_ID = re.compile(_ID_PATTERN)
