"""Choosing and claiming the inputs of a send.

An input is flagged spent *before* its signature leaves the process. Reserved
addresses (an open order's payment address) are never inputs. Claiming is one
conditional UPDATE per address (``spent = false and reserved = false``), so two
processes sharing one database (SQLite or PostgreSQL) never claim the same input; a
claim whose process died before it recorded its bundle is given back.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update

from shared.iota.wallet.addresses import AddressBook
from shared.iota.wallet.common import (
    InsufficientFunds,
    WalletError,
    log,
    owner_is_dead,
    short,
    this_process,
)
from shared.iota.wallet.tables import WalletAddress, WalletSend


class InputSelection(AddressBook):
    """Chooses, claims and gives back the inputs of a send (see the module docstring)."""

    def _claim_inputs(
        self, value: int, *, exclude: str
    ) -> tuple[list[WalletAddress], dict[str, int]]:
        """Pick and flag spent (atomically, in the database) inputs worth at least ``value``.

        Reserved addresses are never candidates. Each claim is a conditional UPDATE
        (``spent = false and reserved = false``): if another process sharing the
        database claimed or reserved one meanwhile, the claim is undone and the
        choice made again from fresh rows.
        """
        for _attempt in range(5):
            chosen, balances = self._choose_inputs(value, exclude=exclude)
            claimed = self._mark_spent(chosen, only_available=True)
            if len(claimed) == len(chosen):
                return chosen, balances
            # Another process spent one of them meanwhile: undo ours and choose again.
            self._release(claimed)
            log.info("event=wallet_claim_contended wallet=%s", self.wallet_id[:12])
        raise WalletError("inputs were spent concurrently by another wallet; try again")

    def _choose_inputs(
        self, value: int, *, exclude: str
    ) -> tuple[list[WalletAddress], dict[str, int]]:
        candidates = [
            row
            for row in self.addresses()
            if not row.spent and not row.reserved and row.address != exclude
        ]
        balances = self._balances([row.address for row in candidates])
        funded = [row for row in candidates if balances[row.address] > 0]
        if funded:
            states = self._spent_on_node([row.address for row in funded])
            node_spent = [row for row, spent in zip(funded, states, strict=True) if spent]
            if node_spent:
                # Spent according to the node but not to us: our records are stale.
                self._mark_spent(node_spent)
                funded = [row for row in funded if row not in node_spent]
        available = sum(balances[row.address] for row in funded)
        if available < value:
            raise InsufficientFunds(required=value, available=available)
        # Largest balances first: fewest inputs, so the fewest signatures to compute and send.
        funded.sort(key=lambda row: (-balances[row.address], row.key_index))
        chosen: list[WalletAddress] = []
        total = 0
        for row in funded:
            if total >= value:
                break
            chosen.append(row)
            total += balances[row.address]
        return chosen, balances

    def _mark_spent(
        self, rows: Sequence[WalletAddress], *, only_available: bool = False
    ) -> list[WalletAddress]:
        claimed: list[WalletAddress] = []
        now = time.time()
        with self._sessions.begin() as session:
            for row in rows:
                statement = update(WalletAddress).where(
                    self._mine(), WalletAddress.key_index == row.key_index
                )
                values: dict[str, Any] = {"spent": True, "spent_at": now}
                if only_available:
                    statement = statement.where(
                        WalletAddress.spent.is_(False), WalletAddress.reserved.is_(False)
                    )
                    values["claimed_by"] = this_process()  # a claim for a send
                result = session.execute(statement.values(**values))
                if getattr(result, "rowcount", 1):
                    claimed.append(row)
        return claimed

    def _release(self, rows: Sequence[WalletAddress]) -> None:
        if not rows:
            return
        with self._sessions.begin() as session:
            for row in rows:
                session.execute(
                    update(WalletAddress)
                    .where(self._mine(), WalletAddress.key_index == row.key_index)
                    .values(spent=False, spent_at=None, claimed_by=None)
                )

    def _release_orphaned_claims(self) -> int:
        """Give back inputs claimed by a process that died before it recorded its bundle.

        A send claims its inputs (spent, ``claimed_by``), signs, and records the signed
        bundle before anything leaves the process; SIGKILL in between leaves inputs
        marked spent with no bundle to send again, so their tokens could never move. Such
        a claim is released when its process is gone, no recorded bundle uses the
        address, and the node has never seen it spent from: the signature died with the
        process, so signing with the key once more is its first and only use.
        """
        with self._sessions() as session:
            claimed = list(
                session.scalars(
                    select(WalletAddress).where(
                        self._mine(),
                        WalletAddress.spent.is_(True),
                        WalletAddress.claimed_by.is_not(None),
                    )
                )
            )
            orphans = [row for row in claimed if owner_is_dead(row.claimed_by)]
            if not orphans:
                return 0
            recorded = {
                address
                for inputs in session.scalars(
                    select(WalletSend.inputs).where(
                        self._mine_sends(),
                    )
                )
                for address in json.loads(inputs)
            }
        orphans = [row for row in orphans if row.address not in recorded]
        if not orphans:
            return 0
        states = self._spent_on_node([row.address for row in orphans])
        released = [row for row, spent in zip(orphans, states, strict=True) if not spent]
        with self._sessions.begin() as session:
            for row in released:
                # Conditional: a live process's claim is never undone.
                session.execute(
                    update(WalletAddress)
                    .where(
                        self._mine(),
                        WalletAddress.key_index == row.key_index,
                        WalletAddress.claimed_by == row.claimed_by,
                    )
                    .values(spent=False, spent_at=None, claimed_by=None)
                )
                log.warning(
                    "event=wallet_claim_released wallet=%s address=%s reason=claimer_died",
                    self.wallet_id[:12],
                    short(row.address),
                )
        return len(released)
