"""The devnet node: the tangle plus its ZMQ feed; every write goes through here to be published."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from services.devnet.publisher import ZmqPublisher
from services.devnet.tangle import Milestone, StoreResult, Tangle, TangleError
from shared.iota.pow import attach_bundle
from shared.iota.zmq_lines import (
    AddressConfirmation,
    LatestMilestoneHash,
    LatestMilestoneIndex,
    LatestSolidMilestoneIndex,
    TransactionConfirmed,
    TransactionSeen,
    TransactionTrytes,
    ZmqEvent,
)

__all__ = ["DevnetNode", "TangleError"]


class DevnetNode:
    """Glue between the ledger, the proof of work and the ZMQ feed."""

    def __init__(self, tangle: Tangle, publisher: ZmqPublisher | None, mwm: int) -> None:
        self.tangle = tangle
        self.publisher = publisher
        self.mwm = mwm
        self.interrupt = threading.Event()
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
        self.interrupt.clear()
        return attach_bundle(trytes, trunk, branch, max(mwm, self.mwm), interrupted=self.interrupt)

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
            events.append(
                TransactionSeen(
                    hash=tx.hash,
                    address=tx.address,
                    value=tx.value,
                    obsolete_tag=tx.obsolete_tag,
                    timestamp=tx.timestamp,
                    current_index=tx.current_index,
                    last_index=tx.last_index,
                    bundle=tx.bundle,
                    trunk=tx.trunk,
                    branch=tx.branch,
                    arrival_time=arrival,
                    tag=tx.tag,
                )
            )
            events.append(TransactionTrytes(trytes=tx.trytes, hash=tx.hash, topic="tx_trytes"))
            events.append(TransactionTrytes(trytes=tx.trytes, hash=tx.hash, topic="trytes"))
        return events

    def publish_milestone(self, milestone: Milestone, previous_index: int) -> None:
        if self.publisher is None:
            return
        events: list[ZmqEvent] = []
        for tx in milestone.confirmed:
            events.append(
                TransactionConfirmed(
                    milestone_index=milestone.index,
                    hash=tx.hash,
                    address=tx.address,
                    trunk=tx.trunk,
                    branch=tx.branch,
                    bundle=tx.bundle,
                )
            )
            events.append(
                AddressConfirmation(
                    address=tx.address, hash=tx.hash, milestone_index=milestone.index
                )
            )
        events.append(LatestSolidMilestoneIndex(previous=previous_index, latest=milestone.index))
        events.append(LatestMilestoneIndex(previous=previous_index, latest=milestone.index))
        events.append(LatestMilestoneHash(hash=milestone.hash))
        self.publisher.publish(events)
