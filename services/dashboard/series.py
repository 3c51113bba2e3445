"""Time series the overview charts draw, kept by the server so a reload shows the past.

Each series is a bounded ring of (unix seconds, value) points: at most ``max_points``
and nothing older than ``history_seconds``. Readers get whole series (a page load) or
what was added after a sequence number (the live stream), so a client that missed a
few updates catches up without a reload.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from dataclasses import dataclass, field

__all__ = ["Point", "SeriesStore"]

Point = tuple[float, float]


@dataclass
class _Series:
    points: deque[tuple[int, float, float]] = field(default_factory=deque)  # (seq, t, value)


class SeriesStore:
    def __init__(self, history_seconds: float = 3600.0, max_points: int = 10_000) -> None:
        if history_seconds <= 0 or max_points < 1:
            raise ValueError("history_seconds and max_points must be positive")
        self.history_seconds = history_seconds
        self.max_points = max_points
        self._series: dict[str, _Series] = {}
        self._seq = 0
        self._changed = asyncio.Event()
        self.totals: dict[str, float] = {}

    @property
    def seq(self) -> int:
        return self._seq

    def add(self, name: str, value: float, at: float | None = None) -> None:
        at = time.time() if at is None else at
        series = self._series.setdefault(name, _Series())
        self._seq += 1
        series.points.append((self._seq, at, float(value)))
        while len(series.points) > self.max_points:
            series.points.popleft()
        horizon = at - self.history_seconds
        while series.points and series.points[0][1] < horizon:
            series.points.popleft()

    def set_total(self, name: str, value: float) -> None:
        self.totals[name] = value

    def notify(self) -> None:
        """Wake live readers (after a batch of ``add`` calls)."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        event = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)

    def snapshot(self, after: int = 0) -> dict[str, list[Point]]:
        """Every series' points with a sequence number above ``after``."""
        out: dict[str, list[Point]] = {}
        for name, series in self._series.items():
            if not series.points or series.points[-1][0] <= after:
                continue
            if after <= 0:
                out[name] = [(t, v) for _, t, v in series.points]
                continue
            newest: list[Point] = []
            for seq, t, v in reversed(series.points):  # new points are at the end
                if seq <= after:
                    break
                newest.append((t, v))
            out[name] = newest[::-1]
        return out

    def names(self) -> list[str]:
        return sorted(self._series)
