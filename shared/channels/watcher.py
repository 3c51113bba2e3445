"""The agent watcher: a node's background part, and its client of the agent's routes.

It registers channels with the agent (on the devnet), copies the agent's view into the
database (deposits, status, a new period after a settlement) and sends the commands
that view calls for: a requested ``close``, ``confirm`` of the peer's honest close,
``fraud_proof`` against a dishonest one, ``confirm`` of its own close once the timeout
has passed in milestone time. The payer and the receiver use its agent client too.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx
from sqlalchemy import update

from shared.channels.core import ChannelError, ConfigRow, NodeCore, command_transfer
from shared.channels.rules import ChannelDefinition, other
from shared.channels.store import SentPayment
from shared.db import run_db

log = logging.getLogger("shared.channels")

_RESEND_AFTER = 30.0  # a command the agent has not acted on is sent again after this


class AgentWatcher:
    """Follows the agent for every channel of the node (needs the wallet to act)."""

    def __init__(self, core: NodeCore) -> None:
        self.core = core

    # -- the agent's routes ---------------------------------------------------------

    async def _agent(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = f"{self.core.config.agent_url.rstrip('/')}/channels{path}"
        return await self.core.transport.http().request(method, url, **kwargs)

    async def register(self, cid: str, definition: ChannelDefinition) -> dict[str, Any]:
        reply = await self._agent("POST", "", json={"definition": definition.to_json()})
        if reply.status_code != 200:
            raise ChannelError(f"the agent refused the channel: {reply.text[:300]}")
        await run_db(self.core.set, cid, registered=True)
        summary: dict[str, Any] = reply.json()
        return summary

    async def summary(self, cid: str) -> dict[str, Any] | None:
        reply = await self._agent("GET", f"/{cid}")
        if reply.status_code == 404:
            return None
        reply.raise_for_status()
        summary: dict[str, Any] = reply.json()
        return summary

    async def payout_address(self, cid: str) -> str:
        row = await run_db(self.core.get, cid)
        if row.payout_address:
            return row.payout_address
        wallet = self.core.need_wallet("a payout address")
        address = await asyncio.to_thread(wallet.new_address, f"channel-payout:{row.period}")
        await run_db(self.core.set, cid, payout_address=address)
        return address

    def ensure_default_payout(self) -> None:
        """Write a payout address for channels the fronts accept (``receiver.py``)."""
        wallet = self.core.need_wallet("a payout address")
        sessions = self.core.sessions
        with sessions() as session:
            if session.get(ConfigRow, "payout_address") is not None:
                return
        address = wallet.new_address("channel-payout")
        with sessions.begin() as session:
            if session.get(ConfigRow, "payout_address") is None:
                session.add(ConfigRow(key="payout_address", value=address))

    # -- the loop ---------------------------------------------------------------------

    async def watch(self) -> None:
        """Follow the agent forever (run under shared.tasks.Supervisor)."""
        self.core.need_wallet("the watcher")
        await asyncio.to_thread(self.ensure_default_payout)
        while True:
            await self.watch_once()
            await asyncio.sleep(self.core.config.watch_interval)

    async def watch_once(self) -> None:
        for cid in await run_db(self.core.channels):
            try:
                await self._watch_channel(cid)
            except (httpx.HTTPError, ChannelError) as error:
                log.warning("event=channel_watch_failed channel=%s error=%r", cid[:16], error)

    async def _watch_channel(self, cid: str) -> None:
        row = await run_db(self.core.get, cid)
        summary = await self.summary(cid)
        if summary is None:
            summary = await self.register(cid, ChannelDefinition.from_json(row.definition))
        elif not row.registered:
            await run_db(self.core.set, cid, registered=True)
        await run_db(self.sync, cid, summary)
        await self.act(cid, summary)

    def sync(self, cid: str, summary: dict[str, Any]) -> None:
        """Take the agent's view: deposits, status, a new period after a settlement."""
        core = self.core
        with core.lock(cid), core.sessions.begin() as session:
            row = core.row(session, cid, lock=True)
            me, peer = row.role, other(row.role)  # type: ignore[arg-type]
            if summary["period"] > row.period:
                log.info(
                    "event=channel_settled channel=%s period=%d now=%d",
                    cid[:16],
                    row.period,
                    summary["period"],
                )
                session.execute(
                    update(SentPayment)
                    .where(SentPayment.channel_id == cid, SentPayment.status == "pending")
                    .values(status="error", error="the period was settled")
                )
                row.period = summary["period"]
                row.deposits_pending = 0
                row.spent_by_me = row.received = row.my_seq = row.peer_seq = 0
                row.evidence = None
                row.payout_address = None
                row.commands = {}
                row.close_requested = False
            # The agent keeps every payout of the channel: issued ones, then pending ones.
            pending = [{**p, "submitted": False} for p in summary["pending"]]
            row.settlements = [*summary["payouts"], *pending][-50:]
            credited = summary["deposits"][me] - row.deposited_by_me
            if credited > 0:
                row.deposits_pending = max(0, row.deposits_pending - credited)
            row.deposited_by_me = summary["deposits"][me]
            row.deposited_by_peer = summary["deposits"][peer]
            if summary["status"] == "closing":
                row.status = "closing_by_me" if summary["initiator"] == me else "closing_by_peer"
            elif row.deposited_by_me or row.deposited_by_peer:
                row.status = "open"
            else:
                row.status = "closed" if row.settlements else "opening"
            row.agent_status = summary["status"]
            row.agent_milestone = summary["milestone"]

    async def act(self, cid: str, summary: dict[str, Any]) -> None:
        """Send the command the agent's view calls for, if any (each at most every 30 s)."""
        row = await run_db(self.core.get, cid)
        me, peer = row.role, other(row.role)  # type: ignore[arg-type]
        if summary["period"] != row.period:
            return
        now = time.time()

        def due(kind: str) -> bool:
            sent = row.commands.get(kind)
            return sent is None or now - sent > _RESEND_AFTER

        if summary["status"] == "open" and row.close_requested and due("close"):
            extra: dict[str, Any] = {"spent": row.spent_by_me}
            if row.evidence is not None:
                extra["peer_package"] = row.evidence
            await self._command(cid, summary, "close", extra)
        elif summary["status"] == "closing" and summary["initiator"] == peer:
            claim = summary["claims"].get(peer, 0)
            if claim >= row.received:
                if due("confirm"):
                    await self._command(cid, summary, "confirm", {})
            elif due("fraud_proof"):
                log.warning(
                    "event=channel_fraud_detected channel=%s claimed=%d evidence=%d",
                    cid[:16],
                    claim,
                    row.received,
                )
                await self._command(cid, summary, "fraud_proof", {"peer_package": row.evidence})
        elif summary["status"] == "closing" and summary["initiator"] == me:
            ready_at = summary.get("confirmable_at")
            ripe = ready_at is not None and summary["milestone_timestamp"] >= ready_at
            if ripe and due("confirm"):
                await self._command(cid, summary, "confirm", {})

    async def _command(
        self, cid: str, summary: dict[str, Any], kind: str, extra: dict[str, Any]
    ) -> None:
        wallet = self.core.need_wallet(kind)
        row = await run_db(self.core.get, cid)
        body = {
            "type": kind,
            "channel": cid,
            "period": summary["period"],
            "party": row.role,
            "payout": await self.payout_address(cid),
            **extra,
        }
        tag, message = command_transfer(self.core.key, body)
        await asyncio.to_thread(wallet.send, 0, summary["escrow"], tag=tag, message=message)
        await run_db(self._note_command, cid, kind)
        log.info(
            "event=channel_command channel=%s kind=%s period=%d", cid[:16], kind, body["period"]
        )

    def _note_command(self, cid: str, kind: str) -> None:
        core = self.core
        with core.lock(cid), core.sessions.begin() as session:
            row = core.row(session, cid, lock=True)
            row.commands = {**row.commands, kind: time.time()}
