"""The coordinator's beat: a failed milestone is retried with jittered backoff, then the beat
resumes (shared/retry.Backoff)."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time

import pytest

from services.devnet.coordinator import MilestoneCoordinator


class FlakyCoordinator(MilestoneCoordinator):
    """The real ``run`` loop around an ``issue`` that fails a few times (no node needed)."""

    def __init__(self, failures: int) -> None:  # the node and keys are not used by run()
        self.failures = failures
        self.calls: list[float] = []

    def issue(self) -> int:
        self.calls.append(time.monotonic())  # run() calls issue in a worker thread
        if len(self.calls) <= self.failures:
            raise OSError("database is locked")
        return len(self.calls)


async def test_failed_milestones_are_retried_then_the_beat_resumes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    coordinator = FlakyCoordinator(failures=3)
    interval = 0.05
    with caplog.at_level(logging.ERROR, logger="devnet.coordinator"):
        task = asyncio.create_task(coordinator.run(interval))
        try:
            async with asyncio.timeout(10):
                while len(coordinator.calls) < 7:
                    await asyncio.sleep(0.01)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
    failed = [r for r in caplog.records if r.getMessage() == "event=milestone_failed"]
    assert len(failed) == 3
    gaps = [b - a for a, b in itertools.pairwise(coordinator.calls)]
    # retries: jittered, each within its doubling ceiling (interval, 2x, 4x; slack for load)
    for number, gap in enumerate(gaps[:3]):
        assert gap <= interval * 2**number + 0.3, gaps
    # then the beat again (the loop catches up after a late tick, so only an upper bound)
    assert all(gap <= interval + 0.3 for gap in gaps[3:]), gaps
    assert sum(gaps[3:]) >= interval * (len(gaps[3:]) - 1), gaps
