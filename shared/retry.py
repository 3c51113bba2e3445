"""The one retry/backoff mechanism: exponential delays with full jitter.

Jitter keeps many machines that lost the same node from reconnecting in lock step.
Use :class:`Backoff` in long-running loops (``await backoff.sleep()`` after a failure,
``backoff.reset()`` after a success) and :func:`retry_async` for one call that may fail
a few times. (The firmware keeps its own loop: it runs on MicroPython.)
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

__all__ = ["Backoff", "retry_async"]

T = TypeVar("T")


class Backoff:
    """Delays ``uniform(0, min(maximum, initial * factor**n))`` for the n-th failure in a row."""

    def __init__(
        self,
        initial: float = 0.1,
        maximum: float = 10.0,
        factor: float = 2.0,
        rng: random.Random | None = None,
    ) -> None:
        if initial <= 0 or maximum < initial or factor < 1:
            raise ValueError("need 0 < initial <= maximum and factor >= 1")
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self.failures = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        ceiling = min(self.maximum, self.initial * self.factor**self.failures)
        self.failures += 1
        # Never zero: a tight loop on a dead peer would spin the CPU.
        return max(self.initial / 10, self._rng.uniform(0, ceiling))

    def reset(self) -> None:
        self.failures = 0

    async def sleep(self) -> float:
        delay = self.next_delay()
        await asyncio.sleep(delay)
        return delay


async def retry_async(
    call: Callable[[], Awaitable[T]],
    *,
    attempts: int,
    retry_on: tuple[type[BaseException], ...] = (Exception,),
    backoff: Backoff | None = None,
) -> T:
    """Await ``call()`` up to ``attempts`` times, backing off between failures."""
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    backoff = backoff or Backoff()
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except retry_on:
            if attempt == attempts:
                raise
            await backoff.sleep()
    raise AssertionError("unreachable")
