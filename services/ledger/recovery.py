"""Recovery of the ledger's consensus rounds (services/ledger/consensus.py), at start and
then every LEDGER_RECOVERY_INTERVAL seconds:

- an actor's own undecided round (it crashed before deciding) is aborted;
- an actor's decided round is driven to every participant again;
- a participant's prepared round whose actor went quiet is resolved by asking the actor
  and the other participants: a valid certificate from anyone commits it, an abort from
  anyone (who never signed, so no certificate can exist) aborts it; otherwise it waits.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import TYPE_CHECKING

from services.ledger.peers import PeerError
from services.ledger.store import Refused, RoundRow
from shared.db import run_db

if TYPE_CHECKING:
    from services.ledger.consensus import Consensus

__all__ = ["Recovery"]

log = logging.getLogger("ledger.consensus")


class Recovery:
    """Finishes or aborts the rounds a crash or a lost message left open."""

    def __init__(self, consensus: Consensus) -> None:
        self.consensus = consensus

    async def at_start(self) -> None:
        """Before serving: our own rounds that were undecided when we stopped are aborted."""
        for row in await run_db(self.consensus.store.open_rounds):
            if row.actor == self.consensus.me.name and row.status == "prepared":
                await run_db(self.consensus.store.abort, row.id)
                log.warning(
                    "event=round_aborted_at_start round=%s ledger=%s", row.id, row.ledger_name
                )

    async def loop(self) -> None:
        while True:
            await self.run_once()
            await asyncio.sleep(self.consensus.settings.ledger_recovery_interval)

    async def run_once(self) -> None:
        for row in await run_db(self.consensus.store.open_rounds):
            if row.id in self.consensus.active_rounds or row.id in self.consensus.closing_rounds:
                continue
            try:
                await self._recover_round(row)
            except Refused as error:
                log.warning("event=recovery_refused round=%s why=%r", row.id, str(error))

    async def _recover_round(self, row: RoundRow) -> None:
        now = time.time()
        if row.actor == self.consensus.me.name:
            if row.status == "prepared":
                await self.consensus.abort_round(row.id, row.ledger_name)
            elif row.status == "committed":
                await self._redrive(row)
            return
        if row.status == "committed":
            # The actor's post-commit never came; the round is written, just close it.
            if now > row.deadline + 5:
                await run_db(self.consensus.store.finish, row.id, None)
            return
        if row.status != "prepared":
            return
        if now < row.deadline and row.created_at > self.consensus.started:
            return  # the actor is still working on it
        await self._ask_peers(row)

    async def _redrive(self, row: RoundRow) -> None:
        signatures = json.loads(row.certificate_json or "{}")
        receipts = {
            self.consensus.me.name: await run_db(self.consensus.store.apply, row.id, signatures)
        }
        deadline = time.time() + self.consensus.settings.ledger_ping_timeout
        missing = await self.consensus.deliver_commit(
            row.id, signatures, row.new_root, receipts, deadline
        )
        if missing:
            return
        await self.consensus.broadcast(
            "/participant/post-commit", {"round": row.id, "receipts": receipts}, deadline
        )
        await run_db(self.consensus.store.finish, row.id, receipts)
        log.info("event=round_redriven round=%s ledger=%s", row.id, row.ledger_name)

    async def _ask_peers(self, row: RoundRow) -> None:
        answers = await self.consensus.broadcast(
            "/participant/status",
            {"round": row.id},
            time.time() + self.consensus.settings.ledger_ping_timeout,
        )
        for peer, answer in answers.items():
            if isinstance(answer, PeerError):
                continue
            signed = {"round": row.id, "participant": peer, "status": answer.get("status")}
            if not self.consensus.me.verify(peer, signed, answer.get("signature")):
                continue
            certificate = answer.get("certificate")
            if certificate:
                try:
                    await run_db(self.consensus.store.apply, row.id, certificate)
                except Refused:
                    continue
                log.info("event=round_recovered round=%s from=%s outcome=committed", row.id, peer)
                return
            if answer.get("status") == "aborted":
                await run_db(self.consensus.store.abort, row.id)
                log.info("event=round_recovered round=%s from=%s outcome=aborted", row.id, peer)
                return
