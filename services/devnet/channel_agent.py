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

Beside this module: the agent's tables and cursor (``channel_agent_db``), what reached
the escrows read from the tangle store (``channel_agent_items``), and its place in the
devnet app, settings loop and routes (``channel_agent_host``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import func, insert, select, update

from services.devnet.channel_agent_db import (
    STORE,
    agent_channels,
    agent_deposits,
    agent_escrows,
    agent_events,
    agent_payouts,
    credited_deposits,
    paid_escrows,
    read_cursor,
    write_cursor,
)
from services.devnet.channel_agent_items import (
    EscrowItem,
    confirmed_items,
    decode_envelope,
    milestone_stamps,
)
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
from shared.iota.transaction import parse_many
from shared.migrations import upgrade

__all__ = [
    "STORE",
    "ChannelAgent",
    "ChannelAgentSettings",
    "UnknownChannel",
    "agent_channels",
    "agent_escrows",
]

log = logging.getLogger("devnet.channels")

PAYOUT_TAG = "CHANNEL9PAYOUT"


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
            cursor = read_cursor(conn)
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
            cursor, _ = read_cursor(conn)
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
        items = confirmed_items(tangle.store, escrows, cursor, latest_index)
        with tangle.lock:
            # Under the ledger's lock: memory has applied every milestone the store shows
            # (at least ``latest_index``), so a deposit read above is in these balances.
            balances = {
                item.escrow: tangle.confirmed_balance(item.escrow)
                for item in items
                if item.value > 0
            }
        stamps = milestone_stamps(tangle.store, {item.milestone for item in items})
        states: dict[str, ChannelState] = {}
        new_escrows: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        with self.engine.begin() as conn:
            credited = credited_deposits(conn, list(balances))
            paid = paid_escrows(conn, list(balances))
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
                    envelopes = [decode_envelope(m) for m in item.messages]
                    event = Deposit(period, item.value, deposit_command(state, envelopes, period))
                    kind = "deposit"
                elif period != state.period:
                    # A command to an old period's escrow: for another period, ignored.
                    events.append(self._event(cid, item, period, "command", False, "wrong_period"))
                    continue
                else:
                    envelope = decode_envelope(item.messages[0])
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
            write_cursor(conn, latest_index, latest_ts)
        return len(items)

    @staticmethod
    def _log(
        accepted: bool, cid: str, period: int, item: EscrowItem, kind: str, reason: str
    ) -> None:
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
    def _event(
        cid: str, item: EscrowItem, period: int, kind: str, accepted: bool, reason: str
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
