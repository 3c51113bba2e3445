"""shared/tasks.py: a crashing background task is restarted with backoff and reported as
down in the meantime; stop() ends every task."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable

import pytest

from shared.tasks import Supervisor


async def _until(condition: Callable[[], object], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.005)


async def test_crashing_task_is_restarted_and_reported_down_meanwhile(
    caplog: pytest.LogCaptureFixture,
) -> None:
    supervisor = Supervisor("robot", initial=0.2, maximum=0.4)
    runs = 0
    crash = asyncio.Event()
    running = asyncio.Event()

    async def processor() -> None:
        nonlocal runs
        runs += 1
        running.set()
        await crash.wait()
        crash.clear()
        raise ConnectionError("node gone")

    with caplog.at_level(logging.INFO, logger="supervisor"):
        supervisor.start("processor", processor)
        try:
            await asyncio.wait_for(running.wait(), 5)
            assert supervisor.down() == {}
            running.clear()
            crash.set()
            await _until(lambda: supervisor.down())
            assert supervisor.down() == {"processor": "ConnectionError: node gone"}
            # down while waiting for the restart, up again once it runs
            await asyncio.wait_for(running.wait(), 5)
            assert runs == 2
            assert supervisor.down() == {}
        finally:
            await supervisor.stop()
    messages = [record.getMessage() for record in caplog.records]
    assert any(m.startswith("event=task_crashed owner=robot task=processor") for m in messages)
    assert any(m.startswith("event=task_restart owner=robot task=processor") for m in messages)


async def test_a_task_that_returns_is_restarted_too() -> None:
    supervisor = Supervisor("wind", initial=0.01, maximum=0.02)
    runs = 0

    async def once() -> None:
        nonlocal runs
        runs += 1
        await asyncio.sleep(0)

    supervisor.start("feed", once)
    try:
        await _until(lambda: runs >= 3)
    finally:
        await supervisor.stop()


async def test_restarts_back_off() -> None:
    supervisor = Supervisor("solar", initial=0.02, maximum=0.16)
    starts: list[float] = []
    loop = asyncio.get_running_loop()

    async def always_fails() -> None:
        starts.append(loop.time())
        raise RuntimeError("broken")

    supervisor.start("broken", always_fails)
    try:
        await _until(lambda: len(starts) >= 6)
    finally:
        await supervisor.stop()
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # full jitter: each gap is at most its ceiling, and the ceiling doubles up to the maximum
    for failure, gap in enumerate(gaps):
        assert gap <= min(0.16, 0.02 * 2**failure) + 0.05, gaps


async def test_stop_cancels_everything_and_names_are_unique() -> None:
    supervisor = Supervisor("devnet")
    cancelled = asyncio.Event()

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    supervisor.start("coordinator", forever)
    with pytest.raises(ValueError, match="already started"):
        supervisor.start("coordinator", forever)
    await asyncio.sleep(0.01)
    await asyncio.wait_for(supervisor.stop(), 5)
    assert cancelled.is_set()
    assert supervisor.down() == {}
