"""``Wallet``: sending, balances and confirmations, over the parts it is built from."""

from __future__ import annotations

import json
import time

from sqlalchemy import update

from shared.iota.text import tag_trytes, text_to_trytes
from shared.iota.wallet.common import (
    HASH_LENGTH,
    MAX_SUPPLY,
    NodeError,
    SendResult,
    WalletError,
    log,
    short,
)
from shared.iota.wallet.sweep import Sweeps
from shared.iota.wallet.tables import WalletAddress, WalletSend


class Wallet(Sweeps):
    """One seed's wallet over PyOTA 2.1.0 and a SQL database (see shared.iota.wallet)."""

    # -- sending -------------------------------------------------------------

    def send(self, value: int, to: str, *, tag: str = "", message: str = "") -> SendResult:
        """Sign and attach a transfer of ``value`` to ``to``; the remainder goes to a new address.

        Bundles signed earlier whose attach failed are attached again first; if one of
        them pays the same ``value`` to ``to``, it is this send (a retry): its result is
        returned and nothing new is signed.

        Raises InsufficientFunds when the confirmed, unspent, unreserved balance is too
        low, WalletError for bad arguments and NodeError when the node fails.
        """
        if isinstance(value, bool) or not isinstance(value, int):
            raise WalletError(f"value must be an integer, got {type(value).__name__}")
        if value < 0 or value > MAX_SUPPLY:
            raise WalletError(f"value must be between 0 and {MAX_SUPPLY}, got {value}")
        recipient = self._validate_address(to, for_value=value > 0)
        if not isinstance(message, str):
            raise WalletError("message must be a string")
        try:
            tag_tr = tag_trytes(tag)
        except ValueError as error:
            raise WalletError(str(error)) from None
        message_tr = text_to_trytes(message)
        with self._lock:
            retried = self._resend_pending(match=(value, recipient))
            if retried is not None:
                return retried
            if value > 0:
                self._release_orphaned_claims()
            if value > 0 and self.is_spent(recipient):
                # Funds sent there could only be moved again by reusing the key.
                raise WalletError(
                    f"refusing to send value to {short(recipient)}..., an address this "
                    "wallet has already spent from"
                )
            return self._send(value, recipient, tag_tr, message_tr)

    def _send(self, value: int, to: str, tag: str, message: str) -> SendResult:
        started = time.perf_counter()
        inputs: list[WalletAddress] = []
        balances: dict[str, int] = {}
        remainder: str | None = None
        if value > 0:
            inputs, balances = self._claim_inputs(value, exclude=to)
        try:
            total = sum(balances[row.address] for row in inputs)
            if total > value:
                remainder = self.new_address("remainder")
            signing = time.perf_counter()
            trytes = self._build_bundle(value, to, tag, message, inputs, balances, remainder)
            approve = self._approve()
            # Durable before any signature leaves the process: a failed attach sends
            # exactly these trytes again, never a second signature of these keys.
            row = self._record(
                trytes,
                to=to,
                value=value,
                inputs=inputs,
                remainder=remainder,
                remainder_value=total - value if remainder else 0,
            )
        except BaseException:
            # Nothing signed has left the process yet: the inputs may be used again.
            self._release(inputs)
            raise
        log.info(
            "event=wallet_signed wallet=%s bundle=%s value=%d inputs=%d prepare_ms=%.0f"
            " sign_ms=%.0f",
            self.wallet_id[:12],
            row.bundle_hash,
            value,
            len(inputs),
            (signing - started) * 1000,
            (time.perf_counter() - signing) * 1000,
        )
        return self._deliver(row, approve)

    # -- balances ------------------------------------------------------------

    def balance(self) -> int:
        """What the wallet really holds: confirmed balances on addresses not spent from
        (reserved ones included), plus the remainders of attached sends that are not
        confirmed yet (their value still sits on the spent inputs until a milestone).

        Funds on a spent address (stranded by a crash, or paid there later) do not
        count: spending them again would reuse a key.
        """
        # a closed address (its hold ended, swept or empty) holds only late money
        mine = self.addresses()
        own = {row.address for row in mine}
        rows = [row for row in mine if not row.spent and row.swept_value is None]
        sends = self._sends_in_flight()
        inputs = [a for send in sends for a in json.loads(send.inputs)]
        balances = self._balances([row.address for row in rows] + inputs)
        total = sum(balances[row.address] for row in rows)
        confirmed: list[bool] = []
        if sends:
            confirmed = self._inclusion_states(
                [send.tail_hash or "9" * HASH_LENGTH for send in sends]
            )
        settled: list[int] = []
        for send, done in zip(sends, confirmed, strict=True):
            if done or all(balances[a] == 0 for a in json.loads(send.inputs)):
                settled.append(send.id)  # the milestone moved it: the remainder counts above
            else:
                # what comes back to this wallet: the remainder, or all of a send to one of
                # its own addresses (a sweep), still on the spent inputs until the milestone
                total += send.remainder_value + (send.value if send.to_address in own else 0)
        if settled:
            with self._sessions.begin() as session:
                # Confirmed: the signed trytes are never needed again (~3 KB a transaction).
                session.execute(
                    update(WalletSend)
                    .where(WalletSend.id.in_(settled))
                    .values(state="settled", trytes="[]")
                )
        return total

    def spendable_balance(self) -> int:
        """Confirmed balance on addresses neither spent from nor reserved: what ``send`` can use."""
        rows = [row for row in self.addresses() if not row.spent and not row.reserved]
        return sum(self._balances([row.address for row in rows]).values())

    # -- confirmation --------------------------------------------------------

    def is_confirmed(self, tail_hash: str) -> bool:
        """True once a milestone confirms ``tail_hash`` (getInclusionStates)."""
        if (
            not isinstance(tail_hash, str)
            or len(tail_hash) != HASH_LENGTH
            or not all(c in "9ABCDEFGHIJKLMNOPQRSTUVWXYZ" for c in tail_hash)
        ):
            raise WalletError("tail_hash must be an 81-tryte transaction hash")
        return bool(self._inclusion_states([tail_hash])[0])

    def wait_until_confirmed(
        self, tail_hash: str, timeout: float = 30.0, poll_interval: float = 0.25
    ) -> bool:
        """Poll ``is_confirmed`` until true (True) or ``timeout`` seconds pass (False).

        Node errors while waiting (a restarting node) are logged and retried.
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.is_confirmed(tail_hash):
                    return True
            except NodeError as error:
                log.warning("event=wallet_confirm_poll_failed tail=%s error=%s", tail_hash, error)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(poll_interval, remaining))
