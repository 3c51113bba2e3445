"""Holding payment addresses and sweeping each once when its hold ends.

A payment address is never spent from while anyone may still pay it; when its hold
ends its whole balance moves to a fresh address of the same wallet, journaled like a
send, so a crash at any moment sweeps it exactly once. Money arriving afterwards is
late (``late_payments``): never spendable, never counted.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence

from sqlalchemy import false, select, update

from shared.iota.text import tag_trytes, text_to_trytes
from shared.iota.wallet.common import WalletError, log, short, this_process
from shared.iota.wallet.journal import SendJournal
from shared.iota.wallet.tables import WalletAddress, WalletSend


class Sweeps(SendJournal):
    """Holds payment addresses and sweeps each once (see the module docstring)."""

    def hold(self, address: str, until: float) -> bool:
        """Keep a reserved ``address`` until ``until`` (Unix time); then :meth:`sweep_due`
        sweeps it once. True if it is reserved and not swept yet (idempotent)."""
        plain = self._validate_address(address)
        return self._update_held(plain, WalletAddress.swept_value.is_(None), hold_until=until)

    def due_sweeps(self, now: float | None = None) -> list[str]:
        """Reserved addresses whose hold has ended and that are not swept yet, oldest first."""
        moment = time.time() if now is None else now
        return self._held(
            WalletAddress.spent.is_(False),
            WalletAddress.swept_value.is_(None),
            WalletAddress.hold_until.is_not(None),
            WalletAddress.hold_until <= moment,
        )

    def sweep_due(self, now: float | None = None, *, skip: Iterable[str] = ()) -> dict[str, int]:
        """Sweep every address whose hold ended (:meth:`sweep`), except those in ``skip``
        (a payment to it still on its way); address -> value moved.

        First attaches any bundle a crash left signed but not attached (a sweep killed
        after it was journaled is finished, never signed again).
        """
        skipped = set(skip)
        with self._lock:
            self._deliver_pending()
            self._release_orphaned_claims()  # a sweep killed before it was journaled
            swept: dict[str, int] = {}
            for address in self.due_sweeps(now):
                if address in skipped:
                    continue
                value = self.sweep(address)
                if value is not None:
                    swept[address] = value
            return swept

    def sweep(self, address: str) -> int | None:
        """Move everything ``address`` holds (confirmed) to a fresh address of this wallet,
        once; the value moved (0 for an empty address, which is closed without a
        signature), or None if it was swept or spent from before.

        Journaled like ``send``: the address is claimed (flagged spent) first, the signed
        bundle and ``swept_value`` are committed together before it is attached, and a
        crash after that attaches the same bundle again (``sweep_due``/``send``); a crash
        before it releases the claim (the signature never left), so the next pass sweeps
        it. The address stays recorded as spent: money arriving there later is late
        (:meth:`late_payments`), never spendable.
        """
        plain = self._validate_address(address)
        with self._lock:
            self._release_orphaned_claims()
            with self._sessions() as session:
                row = session.scalars(
                    select(WalletAddress).where(self._mine(), WalletAddress.address == plain)
                ).first()
            if row is None:
                raise WalletError(f"{short(plain)}... is not an address of this wallet")
            if row.spent or row.swept_value is not None:
                return None
            value = self._balances([plain])[plain]
            if value > 0 and self._spent_on_node([plain])[0]:
                # Signed from before our records knew: its key must not sign again.
                self._mark_spent([row])
                return None
            if value == 0:
                with self._sessions.begin() as session:
                    session.execute(
                        update(WalletAddress)
                        .where(
                            self._mine(),
                            WalletAddress.key_index == row.key_index,
                            WalletAddress.swept_value.is_(None),
                        )
                        .values(swept_value=0, hold_until=None)
                    )
                log.info(
                    "event=wallet_swept wallet=%s address=%s value=0",
                    self.wallet_id[:12],
                    short(plain),
                )
                return 0
            return self._sweep_funded(row, value)

    def _sweep_funded(self, row: WalletAddress, value: int) -> int | None:
        now = time.time()
        with self._sessions.begin() as session:
            claimed = session.execute(
                update(WalletAddress)
                .where(
                    self._mine(),
                    WalletAddress.key_index == row.key_index,
                    WalletAddress.spent.is_(False),
                )
                .values(spent=True, spent_at=now, claimed_by=this_process())
            )
        if not getattr(claimed, "rowcount", 0):
            return None  # another process claimed it first
        try:
            to = self.new_address("sweep")
            tag = tag_trytes("SWEEP")
            message = text_to_trytes(f"sweep {short(row.address)}")
            # A sweep moves one owner's money to itself: its value goes out as the bundle's
            # change (after the inputs, as a remainder), the zero-value first output only
            # carries the note, so whoever reads the bundle (the explorer's "tokens moved")
            # does not take it for a payment.
            trytes = self._build_bundle(0, to, tag, message, [row], {row.address: value}, to)
            approve = self._approve()
            # the journal and what was swept commit together: swept once, ever
            send = self._record(
                trytes, to=to, value=value, inputs=[row], swept_value=value, hold_until=None
            )
        except BaseException:
            self._release([row])
            raise
        log.info(
            "event=wallet_sweep_signed wallet=%s address=%s value=%d bundle=%s",
            self.wallet_id[:12],
            short(row.address),
            value,
            send.bundle_hash,
        )
        result = self._deliver(send, approve)
        log.info(
            "event=wallet_swept wallet=%s address=%s value=%d to=%s tail=%s",
            self.wallet_id[:12],
            short(row.address),
            value,
            short(to),
            result.tail_hash,
        )
        return value

    def swept_value(self, address: str) -> int | None:
        """What the sweep of ``address`` moved (0: closed empty); None if not swept."""
        plain = self._validate_address(address)
        with self._sessions() as session:
            value = session.scalar(
                select(WalletAddress.swept_value).where(
                    self._mine(), WalletAddress.address == plain
                )
            )
        return None if value is None else int(value)

    def sweep_state(self, address: str) -> tuple[bool, int | None]:
        """``(closed, cap)`` of one of this wallet's addresses for counting payments to it
        (``shared.iota.payments.counted_part``): open -> ``(False, None)``; swept ->
        ``(True, swept value)``; found empty at expiry -> ``(True, 0)`` (closed without a
        signature: what arrives later stays there, held, never spendable nor counted);
        spent by an ordinary send -> ``(True, 0)``; being swept right now (claimed, not
        journaled yet) -> ``(True, None)``."""
        plain = self._validate_address(address)
        with self._sessions() as session:
            row = session.execute(
                select(
                    WalletAddress.spent, WalletAddress.swept_value, WalletAddress.claimed_by
                ).where(self._mine(), WalletAddress.address == plain)
            ).first()
        if row is None:
            return False, None
        if row.swept_value is not None:
            return True, int(row.swept_value)  # closed: swept, or found empty at expiry
        if not row.spent:
            return False, None
        return True, None if row.claimed_by else 0

    def late_payments(self, addresses: Sequence[str]) -> dict[str, int]:
        """Money that reached any of ``addresses`` after it was swept or spent from:
        address -> confirmed tokens there that this wallet can never spend (spending
        them would reuse a key). Addresses whose own send is not confirmed yet (its
        value still sits there) are left out until it is."""
        plain = [self._validate_address(a) for a in addresses]
        with self._sessions() as session:
            rows = list(
                session.scalars(
                    select(WalletAddress).where(
                        self._mine(), WalletAddress.address.in_(plain) if plain else false()
                    )
                )
            )
            unsettled = [
                (send.tail_hash, json.loads(send.inputs))
                for send in session.scalars(
                    select(WalletSend).where(
                        self._mine_sends(),
                        WalletSend.state != "settled",
                    )
                )
            ]
        closed = [row.address for row in rows if row.spent or row.swept_value is not None]
        if not closed:
            return {}
        balances = self._balances(closed)
        late = {address: value for address, value in balances.items() if value > 0}
        waiting = [(tail, inputs) for tail, inputs in unsettled if set(inputs) & set(late)]
        if waiting:
            tails = [tail for tail, _ in waiting if tail]
            states: dict[str, bool] = {}
            if tails:
                reply = self._inclusion_states(tails)
                states = dict(zip(tails, reply, strict=True))
            for tail, inputs in waiting:
                if not tail or not states.get(tail):
                    for address in inputs:
                        late.pop(address, None)  # its own send has not moved it yet
        return late
