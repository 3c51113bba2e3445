"""The devnet's coordinator: a milestone bundle every interval, approving the current tips.

A milestone is one zero-value transaction to the coordinator address (key 0 of
DEVNET_COORDINATOR_SEED, security 1). Its index sits in the first trits of tag
and obsoleteTag, as in IRI. Its signature fragment holds a security-1 WOTS
signature of the bundle hash made with key index = milestone index, so no key
signs twice; IRI checked a Merkle path to the coordinator address instead, but a
single node trusting its own coordinator has no need for that.

When more than two tips are waiting, the coordinator first attaches small
"merge" transactions that approve two tips each (at most DEVNET_MAX_MERGES per
round), so one milestone can reference everything.
"""

from __future__ import annotations

import asyncio
import logging
import time

from services.devnet.node import DevnetNode
from shared.iota.bundle import bundle_hash
from shared.iota.signing import address_of, has_m_bug, key_of, sign_fragment
from shared.iota.transaction import NULL_HASH
from shared.iota.trinary import int_to_trits, trits_to_trytes
from shared.retry import Backoff

__all__ = ["MERGE_TAG", "MilestoneCoordinator"]

log = logging.getLogger("devnet.coordinator")

MERGE_TAG = "DEVNET9MERGE" + "9" * 15


def _trytes(value: int, trytes: int) -> str:
    return trits_to_trytes(int_to_trits(value, 3 * trytes))


class MilestoneCoordinator:
    """Issues milestones for one node; ``issue`` is synchronous (run it in a thread)."""

    def __init__(self, node: DevnetNode, seed: str, *, max_merges: int = 16) -> None:
        self.node = node
        self._seed = seed
        self.max_merges = max_merges
        self.address = address_of(seed, 0, 1)

    def _zero_value(self, tag: str, obsolete_tag: str, fragment: str, stamp: int) -> str:
        essence = self.address + _trytes(0, 27) + obsolete_tag + _trytes(stamp, 9)
        essence += _trytes(0, 9) + _trytes(0, 9)
        hash_ = bundle_hash([essence])
        return fragment + essence + hash_ + NULL_HASH + NULL_HASH + tag + "9" * 54

    def _merge(self, first: str, second: str) -> None:
        trytes = self._zero_value(MERGE_TAG, MERGE_TAG, "9" * 2187, int(time.time()))
        attached = self.node.attach([trytes], first, second, self.node.mwm)
        self.node.store(attached)

    def milestone_trytes(self, index: int, stamp: int) -> str:
        """The unattached, signed milestone transaction for ``index``."""
        tag = _trytes(index, 27)
        while True:
            essence = self.address + _trytes(0, 27) + tag + _trytes(stamp, 9)
            essence += _trytes(0, 9) + _trytes(0, 9)
            hash_ = bundle_hash([essence])
            if not has_m_bug(hash_):
                break
            stamp += 1  # the index must stay in the tag, so vary the timestamp
        signature = sign_fragment(key_of(self._seed, index, 1), 0, hash_)
        return signature + essence + hash_ + NULL_HASH + NULL_HASH + tag + "9" * 54

    def issue(self) -> int:
        """Merge excess tips, then attach, store and apply the next milestone."""
        tangle = self.node.tangle
        tips = tangle.current_tips()
        merges = 0
        while len(tips) > 2 and merges < self.max_merges:
            self._merge(tips[0], tips[1])
            merges += 1
            tips = tangle.current_tips()
        previous = tangle.latest_milestone_index
        if len(tips) >= 2:
            trunk, branch = tips[-1], tips[-2]
        elif tips:
            trunk, branch = tips[0], tangle.latest_milestone_hash
        else:
            trunk = branch = tangle.latest_milestone_hash
        index = previous + 1
        stamp = int(time.time())
        trytes = self.milestone_trytes(index, stamp)
        attached = self.node.attach([trytes], trunk, branch, self.node.mwm)
        result = self.node.store(attached)
        milestone_hash = result.stored[0].hash if result.stored else ""
        milestone = tangle.apply_milestone(index, milestone_hash, stamp)
        self.node.publish_milestone(milestone, previous)
        log.info(
            "event=milestone index=%d confirmed=%d merges=%d tips_left=%d",
            index,
            len(milestone.confirmed),
            merges,
            tangle.tip_count(),
        )
        return index

    async def run(self, interval: float) -> None:
        """Issue a milestone every ``interval`` seconds until cancelled.

        A failed milestone (the database busy, the disk full) is retried with backoff and
        jitter instead of on the beat, then the beat resumes."""
        loop = asyncio.get_running_loop()
        backoff = Backoff(initial=interval, maximum=max(10 * interval, 10.0))
        next_at = loop.time()
        while True:
            try:
                await asyncio.to_thread(self.issue)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("event=milestone_failed")
                retry_in = backoff.next_delay()
                next_at = loop.time() + retry_in
                await asyncio.sleep(retry_in)
                continue
            backoff.reset()
            next_at += interval
            delay = next_at - loop.time()
            if delay < 0:
                next_at = loop.time()
                delay = 0
            await asyncio.sleep(delay)
