"""Handing out addresses: fresh ones, the pool, reservations and the deposit address.

A row is written *before* an address is handed out, so a crash (even SIGKILL) can
never make the wallet hand an address out twice. Before it is handed out the node is
asked whether the address was already used (a reset or restored database).

The pool (``fill_pool``) takes the derivation and the node's reuse check off the path
of callers that need many fresh addresses at once (the grid's settle): pooled rows are
written exactly like handed-out ones (reserved, so never an input nor a deposit
address) and ``new_address``/``new_addresses`` hand them out with one conditional
UPDATE each (``pooled = true``), so an address leaves the pool once, even across
processes sharing the database or a SIGKILL between take and use.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from iota import Address
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.iota.signing import address_of
from shared.iota.wallet.common import (
    LOG_UNSAFE,
    POOL_PURPOSE,
    WalletError,
    check_purpose,
    log,
    short,
)
from shared.iota.wallet.core import WalletCore
from shared.iota.wallet.tables import WalletAddress


class AddressBook(WalletCore):
    """Hands out and reserves addresses (see the module docstring)."""

    def new_address(
        self, purpose: str, *, reserve: bool = False, hold_until: float | None = None
    ) -> str:
        """A fresh, never handed-out address (81 trytes); recorded with ``purpose`` first.

        ``reserve=True`` holds it for its purpose (an open order's payment address):
        ``send`` never spends from it until ``release(address)``. ``hold_until`` (Unix
        time, with ``reserve``) also says when its purpose ends: :meth:`sweep_due` then
        sweeps it once (see :meth:`sweep`). Taken from the pool when it has one (see
        :meth:`fill_pool`), derived now otherwise.
        """
        return self.new_addresses([purpose], reserve=reserve, hold_until=hold_until)[0]

    def new_addresses(
        self,
        purposes: Sequence[str],
        *,
        reserve: bool = False,
        hold_until: float | None = None,
    ) -> list[str]:
        """One fresh address per purpose, in order (pooled ones first, one transaction)."""
        for purpose in purposes:
            check_purpose(purpose)
        if hold_until is not None and not reserve:
            raise WalletError("hold_until needs reserve=True")
        # No lock for the pool: its conditional UPDATE is safe between threads as between
        # processes, so taking pooled addresses never waits for a send holding the lock.
        taken = self._take_pooled(purposes, reserve=reserve, hold_until=hold_until)
        if len(taken) == len(purposes):
            return taken
        with self._lock:
            return taken + [
                self._allocate(purpose, reserve=reserve, hold_until=hold_until)
                for purpose in purposes[len(taken) :]
            ]

    def pool_size(self) -> int:
        """Addresses derived ahead and not handed out yet."""
        with self._sessions() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(WalletAddress)
                    .where(self._mine(), WalletAddress.pooled.is_(True))
                )
                or 0
            )

    def fill_pool(self, size: int) -> int:
        """Derive addresses ahead of need until ``size`` wait in the pool; how many added.

        Each is checked against the node and written (reserved, pooled) before it
        counts, like any handed-out address. The wallet's lock is taken per address,
        so sends and ``new_address`` calls interleave with a long fill.
        """
        added = 0
        while self.pool_size() < size:
            with self._lock:
                self._allocate(POOL_PURPOSE, reserve=True, pooled=True)
            added += 1
        return added

    def _take_pooled(
        self, purposes: Sequence[str], *, reserve: bool, hold_until: float | None = None
    ) -> list[str]:
        """Hand out up to len(purposes) pooled addresses, oldest first, in one transaction.

        The conditional UPDATE (``pooled = true``) lets exactly one taker win an
        address when several processes share the database.
        """
        if not purposes:
            return []
        taken: list[str] = []
        with self._sessions.begin() as session:
            rows = session.execute(
                select(WalletAddress.key_index, WalletAddress.address)
                .where(self._mine(), WalletAddress.pooled.is_(True))
                .order_by(WalletAddress.key_index)
                .limit(len(purposes))
            ).all()
            for index, address in rows:
                purpose = purposes[len(taken)]
                result = session.execute(
                    update(WalletAddress)
                    .where(
                        self._mine(),
                        WalletAddress.key_index == index,
                        WalletAddress.pooled.is_(True),
                    )
                    .values(
                        pooled=False,
                        reserved=reserve,
                        purpose=purpose,
                        created_at=time.time(),
                        hold_until=hold_until,
                    )
                )
                if getattr(result, "rowcount", 0):
                    taken.append(address)
        for address, purpose in zip(taken, purposes, strict=False):
            log.info(
                "event=wallet_address_new wallet=%s address=%s purpose=%s pooled=true",
                self.wallet_id[:12],
                short(address),
                LOG_UNSAFE.sub("_", purpose),
            )
        return taken

    def release(self, address: str) -> bool:
        """End the reservation of ``address``: its funds may be spent from now on.

        Idempotent; True if the address was reserved.
        """
        plain = self._validate_address(address)
        released = self._update_held(plain, reserved=False)
        if released:
            log.info(
                "event=wallet_address_released wallet=%s address=%s",
                self.wallet_id[:12],
                short(plain),
            )
        return released

    def reserved_addresses(self) -> list[str]:
        """Addresses held for a purpose (never inputs), oldest first."""
        return self._held()

    def _update_held(self, address: str, *where: Any, **values: Any) -> bool:
        """Write ``values`` on ``address`` if it is held (reserved and handed out: a pooled
        one nobody was given stays held) and matches ``where``; True if it did."""
        with self._sessions.begin() as session:
            result = session.execute(
                update(WalletAddress)
                .where(self._held_rows(), WalletAddress.address == address, *where)
                .values(**values)
            )
        return bool(getattr(result, "rowcount", 0))

    def _held(self, *where: Any) -> list[str]:
        """Held addresses (see ``_update_held``) matching ``where``, oldest first."""
        with self._sessions() as session:
            return list(
                session.scalars(
                    select(WalletAddress.address)
                    .where(self._held_rows(), *where)
                    .order_by(WalletAddress.key_index)
                )
            )

    def _held_rows(self) -> Any:
        return self._mine() & WalletAddress.reserved.is_(True) & WalletAddress.pooled.is_(False)

    def deposit_address(self) -> str:
        """The newest address not spent from nor reserved; the first one is created on demand."""
        with self._lock:
            with self._sessions() as session:
                row = session.scalars(
                    select(WalletAddress)
                    .where(
                        self._mine(),
                        WalletAddress.spent.is_(False),
                        WalletAddress.reserved.is_(False),
                    )
                    .order_by(WalletAddress.key_index.desc())
                    .limit(1)
                ).first()
            if row is not None:
                return row.address
            return self._allocate("deposit")

    def _next_index(self, session: Session) -> int:
        highest = session.scalar(select(func.max(WalletAddress.key_index)).where(self._mine()))
        return 0 if highest is None else highest + 1

    def _allocate(
        self,
        purpose: str,
        *,
        reserve: bool = False,
        pooled: bool = False,
        hold_until: float | None = None,
    ) -> str:
        """Find the next index, skip ones used on the tangle, persist, then return."""
        with self._sessions() as session:
            index = self._next_index(session)
        while True:
            address = self._address_at(index)
            used, spent = self._used_on_tangle(address)
            row = WalletAddress(
                wallet_id=self.wallet_id,
                security=self.security,
                key_index=index,
                address=address,
                purpose=purpose if not used else "found-used-on-tangle",
                spent=spent,
                created_at=time.time(),
                spent_at=time.time() if spent else None,
                reserved=reserve and not used,
                pooled=pooled and not used,
                hold_until=hold_until if reserve and not used else None,
            )
            try:
                with self._sessions.begin() as session:
                    session.add(row)
            except IntegrityError:
                # Another process sharing this database took the index first.
                with self._sessions() as session:
                    index = max(index + 1, self._next_index(session))
                continue
            if used:
                # The database lost track of this one (reset or restored): keep it
                # on record, so its balance still counts, but never hand it out.
                log.warning(
                    "event=wallet_address_skipped wallet=%s index=%d address=%s spent=%s",
                    self.wallet_id[:12],
                    index,
                    short(address),
                    spent,
                )
                index += 1
                continue
            log.info(
                "event=wallet_address_new wallet=%s index=%d address=%s purpose=%s",
                self.wallet_id[:12],
                index,
                short(address),
                LOG_UNSAFE.sub("_", purpose),
            )
            return address

    def _address_at(self, index: int) -> str:
        """The address at key ``index`` (PyOTA's AddressGenerator, checksum=False; numba Kerl)."""
        return address_of(self._seed, index, self.security)

    def _used_on_tangle(self, address: str) -> tuple[bool, bool]:
        """(has transactions, a balance or is spent; is spent) as the node sees it; best effort."""
        if not self.check_node_for_reuse:
            return False, False
        try:
            spent = bool(self._api.were_addresses_spent_from([Address(address)])["states"][0])
            hashes = self._api.find_transactions(addresses=[Address(address)])["hashes"]
            if not spent and not hashes:
                # A node with local snapshots forgets old transactions but keeps balances.
                balance = self._api.get_balances([Address(address)])["balances"][0]
                hashes = ["(balance)"] if int(balance) else []
        except Exception as error:  # node down: the database alone still prevents reuse
            log.warning(
                "event=wallet_node_check_failed address=%s error=%s",
                short(address),
                type(error).__name__,
            )
            return False, False
        return spent or bool(hashes), spent
