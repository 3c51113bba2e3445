"""The send journal: a signed bundle is recorded before anything of it leaves the process.

If attaching or storing it fails, the next ``send`` (or ``resend_pending``) attaches
that same bundle again; its inputs are never signed a second time, so no key is
reused and no funds are stranded by a node outage. One process at a time delivers a
recorded bundle (a conditional UPDATE claims it; a dead owner's bundle is taken over).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from iota import BadApiResponse, TryteString
from sqlalchemy import select, update

from shared.iota.wallet.common import (
    BUNDLE_SLICE,
    DELIVERY_LEASE,
    UNDELIVERED,
    NodeError,
    SendResult,
    WalletError,
    log,
    owner_is_dead,
    short,
    tail_hash_of,
    this_process,
)
from shared.iota.wallet.inputs import InputSelection
from shared.iota.wallet.tables import WalletAddress, WalletSend
from shared.iota.wallet_bundle import WalletInput, build_transfer
from shared.retry import Backoff


class SendJournal(InputSelection):
    """Records signed bundles and delivers them (again, after a failure) exactly once."""

    def _record(
        self,
        trytes: Sequence[str],
        *,
        to: str,
        value: int,
        inputs: Sequence[WalletAddress],
        remainder: str | None = None,
        remainder_value: int = 0,
        **also: Any,
    ) -> WalletSend:
        """Journal a signed bundle (``signed``) and, in the same commit, end the claim on
        its inputs (``also``: more columns to write on them): from this commit on the
        bundle is attached again after a failure, never signed again."""
        row = WalletSend(
            wallet_id=self.wallet_id,
            security=self.security,
            bundle_hash=trytes[0][BUNDLE_SLICE],
            to_address=to,
            value=value,
            inputs=json.dumps([r.address for r in inputs]),
            remainder_address=remainder,
            remainder_value=remainder_value,
            trytes=json.dumps(list(trytes)),
            state="signed",
            touched_at=time.time(),
            owner=this_process(),
            attempts=0,
            created_at=time.time(),
        )
        with self._sessions.begin() as session:
            session.add(row)
            if inputs:
                session.execute(
                    update(WalletAddress)
                    .where(
                        self._mine(),
                        WalletAddress.key_index.in_([r.key_index for r in inputs]),
                    )
                    .values(claimed_by=None, **also)
                )
        return row

    def _sends(self, *where: Any) -> list[WalletSend]:
        """This wallet's journal rows matching ``where``, oldest first."""
        with self._sessions() as session:
            return list(
                session.scalars(
                    select(WalletSend).where(self._mine_sends(), *where).order_by(WalletSend.id)
                )
            )

    def _sends_in_flight(self) -> list[WalletSend]:
        return self._sends(WalletSend.state == "attached")

    def pending_sends(self) -> list[WalletSend]:
        """Signed bundles not attached yet (a node failure); ``resend_pending`` sends them."""
        return self._sends(WalletSend.state.in_(UNDELIVERED))

    def sends(self) -> list[WalletSend]:
        """Every bundle this wallet signed, oldest first (its books of what it sent)."""
        return self._sends()

    def _claim_pending(self) -> list[WalletSend]:
        """Undelivered bundles no other process is delivering now, claimed atomically."""
        now = time.time()
        claimed: list[WalletSend] = []
        for row in self.pending_sends():
            if (
                row.state != "failed"
                and row.touched_at > now - DELIVERY_LEASE
                and not owner_is_dead(row.owner)
            ):
                continue  # another thread or process is attaching it right now
            with self._sessions.begin() as session:
                result = session.execute(
                    update(WalletSend)
                    .where(
                        WalletSend.id == row.id,
                        WalletSend.state == row.state,
                        WalletSend.touched_at == row.touched_at,
                    )
                    .values(state="sending", touched_at=now, owner=this_process())
                )
            if getattr(result, "rowcount", 0):
                claimed.append(row)
        return claimed

    def _deliver_pending(self) -> None:
        """Attach again what a crash or a node failure left signed (logged, not raised)."""
        for row in self._claim_pending():
            try:
                self._deliver(row)
            except NodeError as error:
                self._log_resend_failed(row, error)

    def _log_resend_failed(self, row: WalletSend, error: NodeError) -> None:
        log.warning(
            "event=wallet_resend_failed wallet=%s bundle=%s error=%s",
            self.wallet_id[:12],
            row.bundle_hash,
            str(error)[:200],
        )

    def resend_pending(self) -> list[SendResult]:
        """Attach again every signed bundle whose attach failed; NodeError if one fails
        (after trying all of them)."""
        with self._lock:
            results: list[SendResult] = []
            failure: NodeError | None = None
            for row in self._claim_pending():
                try:
                    results.append(self._deliver(row))
                except NodeError as error:
                    failure = failure or error
            if failure is not None:
                raise failure
            return results

    def _resend_pending(self, *, match: tuple[int, str]) -> SendResult | None:
        """Deliver pending bundles; the result of the one paying ``match`` (value, to)."""
        found: SendResult | None = None
        failure: NodeError | None = None
        claimed = self._claim_pending()
        for row in claimed:
            same = (row.value, row.to_address) == match
            try:
                result = self._deliver(row)
            except NodeError as error:
                if same:
                    failure = error  # this very transfer still cannot be sent
                    continue
                self._log_resend_failed(row, error)
                continue
            if same and found is None:
                found = result
        if found is not None:
            return found
        if failure is not None:
            raise failure  # never sign a second bundle for it
        ids = {row.id for row in claimed}
        for row in self.pending_sends():
            if row.id not in ids and (row.value, row.to_address) == match:
                # Another process is attaching this very transfer right now.
                raise NodeError(
                    f"a transfer of {row.value} to {short(row.to_address)}... is being "
                    "attached by another process; try again shortly"
                )
        return None

    def _deliver(self, row: WalletSend, approve: dict[str, Any] | None = None) -> SendResult:
        """Attach and store a recorded bundle (again, after a failure); mark it attached."""
        try:
            return self._attach_recorded(row, approve)
        except BaseException:
            with self._sessions.begin() as session:
                session.execute(
                    update(WalletSend)
                    .where(WalletSend.id == row.id)
                    .values(state="failed", touched_at=time.time())
                )
            raise

    def _attach_recorded(self, row: WalletSend, approve: dict[str, Any] | None) -> SendResult:
        trytes: list[str] = json.loads(row.trytes)
        with self._sessions.begin() as session:
            session.execute(
                update(WalletSend)
                .where(WalletSend.id == row.id)
                .values(attempts=WalletSend.attempts + 1)
            )
        started = time.perf_counter()
        if approve is None:
            approve = self._approve()
        approved = time.perf_counter()
        attached = self._call(
            "attachToTangle",
            self._api.attach_to_tangle,
            approve["trunkTransaction"],
            approve["branchTransaction"],
            # Head first, as PyOTA's ProposedBundle.as_tryte_strings() sent them.
            [TryteString(t) for t in reversed(trytes)],
            self.min_weight_magnitude,
        )["trytes"]
        pow_done = time.perf_counter()
        self._store(attached)
        stored = time.perf_counter()
        tail = tail_hash_of([str(t) for t in attached])
        now = time.time()
        with self._sessions.begin() as session:
            session.execute(
                update(WalletSend)
                .where(WalletSend.id == row.id)
                .values(state="attached", tail_hash=tail, attached_at=now, touched_at=now)
            )
        result = SendResult(
            bundle_hash=row.bundle_hash,
            tail_hash=tail,
            value=row.value,
            to=row.to_address,
            inputs=list(json.loads(row.inputs)),
            remainder_address=row.remainder_address,
        )
        log.info(
            "event=wallet_send wallet=%s value=%d to=%s bundle=%s tail=%s inputs=%d remainder=%s"
            " attempt=%d approve_ms=%.0f attach_ms=%.0f store_ms=%.0f",
            self.wallet_id[:12],
            row.value,
            short(row.to_address),
            result.bundle_hash,
            result.tail_hash,
            len(result.inputs),
            short(row.remainder_address) if row.remainder_address else "-",
            row.attempts + 1,
            (approved - started) * 1000,
            (pow_done - approved) * 1000,
            (stored - pow_done) * 1000,
        )
        return result

    def _build_bundle(
        self,
        value: int,
        to: str,
        tag: str,
        message: str,
        inputs: Sequence[WalletAddress],
        balances: dict[str, int],
        remainder: str | None,
    ) -> list[str]:
        """The signed bundle's trytes, tail first, unattached (see shared.iota.wallet_bundle)."""
        try:
            return build_transfer(
                to=to,
                value=value,
                tag=tag,
                message=message,
                inputs=[
                    WalletInput(row.address, balances[row.address], row.key_index) for row in inputs
                ],
                seed=self._seed,
                security=self.security,
                remainder=remainder,
                timestamp=int(time.time()),
            )
        except ValueError as error:
            # Not expected (inputs and remainder are chosen to fit): say so without the seed.
            raise WalletError(f"could not build the bundle: {error}") from None

    def _store(self, attached: list[TryteString]) -> None:
        """broadcastTransactions + storeTransactions, retried: the PoW is already paid for."""
        backoff = Backoff(initial=0.5, maximum=2.0)
        for attempt in range(3):
            try:
                self._api.broadcast_and_store(attached)
                return
            except BadApiResponse as error:
                # The node looked at the bundle and refused it: retrying will not help.
                raise NodeError(f"node refused the bundle: {error}") from None
            except Exception as error:
                if attempt == 2:
                    raise NodeError(
                        f"storeTransactions failed: {type(error).__name__}: {error}"
                    ) from None
                time.sleep(backoff.next_delay())
