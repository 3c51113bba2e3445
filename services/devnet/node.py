"""The devnet node: the tangle plus its ZMQ feed; every write goes through here to be published."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from services.devnet.publisher import ZmqPublisher
from services.devnet.tangle import Milestone, StoreResult, Tangle, TangleError
from shared.iota.pow import PowInterrupted, attach_bundle
from shared.iota.zmq_lines import (
    AddressConfirmation,
    LatestMilestoneHash,
    LatestMilestoneIndex,
    LatestSolidMilestoneIndex,
    TransactionConfirmed,
    TransactionSeen,
    TransactionTrytes,
    ZmqEvent,
    event_of,
)

__all__ = ["AttachBusy", "AttachTimedOut", "DevnetNode", "TangleError"]


class AttachBusy(RuntimeError):
    """Every proof-of-work slot stayed taken until the attach deadline."""


class AttachTimedOut(RuntimeError):
    """A client's proof of work ran past the attach deadline."""


class _AttachGuard:
    """What ``find_nonce`` polls between slices: an interrupt, or the deadline passing."""

    def __init__(self, deadline: float) -> None:
        self.event = threading.Event()
        self.deadline = deadline
        self.timed_out = False

    def is_set(self) -> bool:
        if self.event.is_set():
            return True
        if time.monotonic() > self.deadline:
            self.timed_out = True
            return True
        return False


class DevnetNode:
    """Glue between the ledger, the proof of work and the ZMQ feed.

    Clients' attachToTangle calls (``attach_for_client``) run at most
    ``attach_concurrency`` at a time, each within ``attach_timeout`` seconds. Each is
    tracked under its client's identity (the peer's IP address), and
    interruptAttachingToTangle stops only the calls of the client that sent it: one
    client can no longer abort everyone's proof of work (issue 20). The node's own proof
    of work (coordinator milestones, faucet payments) uses ``attach`` and is never
    interrupted.
    """

    def __init__(
        self,
        tangle: Tangle,
        publisher: ZmqPublisher | None,
        mwm: int,
        *,
        attach_timeout: float = 60.0,
        attach_concurrency: int = 2,
    ) -> None:
        self.tangle = tangle
        self.publisher = publisher
        self.mwm = mwm
        self.attach_timeout = attach_timeout
        self._attach_slots = threading.BoundedSemaphore(attach_concurrency)
        self._attaching: dict[str, set[_AttachGuard]] = {}
        self._attaching_lock = threading.Lock()
        self.started = time.time()

    def store(
        self, trytes: Sequence[str], *, meta_updates: dict[str, str] | None = None
    ) -> StoreResult:
        result = self.tangle.store_transactions(trytes, meta_updates=meta_updates)
        if self.publisher is not None and result.stored:
            self.publisher.publish(self._tx_events(result))
        return result

    def broadcast(self, trytes: Sequence[str]) -> StoreResult:
        """Validate as store would, without storing (a single node has no neighbours)."""
        return self.tangle.store_transactions(trytes, persist=False)

    def attach(self, trytes: Sequence[str], trunk: str, branch: str, mwm: int) -> list[str]:
        """The node's own proof of work (coordinator, faucet): nothing interrupts it."""
        return attach_bundle(trytes, trunk, branch, max(mwm, self.mwm))

    def attach_for_client(
        self, trytes: Sequence[str], trunk: str, branch: str, mwm: int, client: str = ""
    ) -> list[str]:
        """A client's attachToTangle: bounded in concurrency and time, interruptible by
        the same ``client`` only."""
        guard = _AttachGuard(time.monotonic() + self.attach_timeout)
        if not self._attach_slots.acquire(timeout=self.attach_timeout):
            raise AttachBusy(
                f"attachToTangle is busy: no proof-of-work slot was free within "
                f"{self.attach_timeout:g}s; try again"
            )
        try:
            with self._attaching_lock:
                self._attaching.setdefault(client, set()).add(guard)
            try:
                return attach_bundle(trytes, trunk, branch, max(mwm, self.mwm), interrupted=guard)
            except PowInterrupted:
                if guard.timed_out:
                    raise AttachTimedOut(
                        f"attachToTangle took longer than {self.attach_timeout:g}s "
                        "(DEVNET_ATTACH_TIMEOUT)"
                    ) from None
                raise
            finally:
                with self._attaching_lock:
                    mine = self._attaching.get(client)
                    if mine is not None:
                        mine.discard(guard)
                        if not mine:
                            del self._attaching[client]
        finally:
            self._attach_slots.release()

    def interrupt_client_attaches(self, client: str = "") -> int:
        """interruptAttachingToTangle from ``client``: stop that client's proofs of work
        running now (nobody else's); returns how many were stopped."""
        with self._attaching_lock:
            guards = list(self._attaching.get(client, ()))
        for guard in guards:
            guard.event.set()
        return len(guards)

    def attach_and_store(
        self, trytes: Sequence[str], *, meta_updates: dict[str, str] | None = None
    ) -> list[str]:
        trunk, branch = self.tangle.select_tips()
        attached = attach_bundle(trytes, trunk, branch, self.mwm)
        self.store(attached, meta_updates=meta_updates)
        return attached

    def _tx_events(self, result: StoreResult) -> list[ZmqEvent]:
        events: list[ZmqEvent] = []
        arrival = result.arrival_ms // 1000
        for tx in result.stored:
            events.append(event_of(TransactionSeen, tx, arrival_time=arrival))
            events.append(TransactionTrytes(trytes=tx.trytes, hash=tx.hash, topic="tx_trytes"))
            events.append(TransactionTrytes(trytes=tx.trytes, hash=tx.hash, topic="trytes"))
        return events

    def publish_milestone(self, milestone: Milestone, previous_index: int) -> None:
        if self.publisher is None:
            return
        events: list[ZmqEvent] = []
        for tx in milestone.confirmed:
            events.append(event_of(TransactionConfirmed, tx, milestone_index=milestone.index))
            events.append(event_of(AddressConfirmation, tx, milestone_index=milestone.index))
        events.append(LatestSolidMilestoneIndex(previous=previous_index, latest=milestone.index))
        events.append(LatestMilestoneIndex(previous=previous_index, latest=milestone.index))
        events.append(LatestMilestoneHash(hash=milestone.hash))
        self.publisher.publish(events)
