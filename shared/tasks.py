"""Supervised background tasks: a crash is logged, the task restarts with backoff, and
``/health`` reports it as down until it runs again.

    supervisor = Supervisor("robot")
    supervisor.start("processor", processor.run)        # an ``async def run()`` that loops
    ...
    down = supervisor.down()                            # names of parts that are not running
    await supervisor.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from shared.retry import Backoff

__all__ = ["Supervisor"]

log = logging.getLogger("supervisor")

# A task that ran this long before failing is considered to have recovered: backoff restarts.
_HEALTHY_AFTER = 30.0


class Supervisor:
    def __init__(self, owner: str, *, initial: float = 0.5, maximum: float = 30.0) -> None:
        self.owner = owner
        self._initial = initial
        self._maximum = maximum
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._down: dict[str, str] = {}

    def start(self, name: str, factory: Callable[[], Awaitable[None]]) -> None:
        if name in self._tasks:
            raise ValueError(f"task {name} already started")
        self._tasks[name] = asyncio.create_task(self._keep(name, factory), name=name)

    async def _keep(self, name: str, factory: Callable[[], Awaitable[None]]) -> None:
        backoff = Backoff(self._initial, self._maximum)
        while True:
            started = time.monotonic()
            try:
                await factory()
                reason = "returned"
            except asyncio.CancelledError:
                raise
            except Exception as error:
                reason = f"{type(error).__name__}: {error}"
                log.exception("event=task_crashed owner=%s task=%s", self.owner, name)
            else:
                log.error("event=task_stopped owner=%s task=%s", self.owner, name)
            self._down[name] = reason[:200]
            if time.monotonic() - started > _HEALTHY_AFTER:
                backoff.reset()
            delay = await backoff.sleep()
            log.info("event=task_restart owner=%s task=%s after=%.2fs", self.owner, name, delay)
            self._down.pop(name, None)

    def down(self) -> dict[str, str]:
        """Parts that are not running now, with why (empty when all are up)."""
        return dict(self._down)

    async def stop(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        for task in self._tasks.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
