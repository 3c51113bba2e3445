"""Wall-clock time slices: every party cuts time the same way.

A slice is ``[start, start + SLICE_SECONDS)`` in Unix epoch milliseconds with ``start`` a
multiple of the slice length, so a source, its producer, a consumer and the grid that
never talked to each other agree on which slice a reading belongs to. TIME_SCALE (the
energy models' simulated clock) never changes these: slices are real time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import NamedTuple

__all__ = ["Slice", "now_ms", "slice_at", "slice_ms", "slices_between"]


class Slice(NamedTuple):
    """One slice: ``start`` inclusive, ``end`` exclusive, both Unix epoch ms."""

    start: int
    end: int

    def next(self) -> Slice:
        return Slice(self.end, 2 * self.end - self.start)

    def previous(self) -> Slice:
        return Slice(2 * self.start - self.end, self.start)


def now_ms() -> int:
    """The wall clock in Unix epoch milliseconds."""
    return time.time_ns() // 1_000_000


def slice_ms(slice_seconds: float) -> int:
    """The slice length in whole milliseconds (at least 1 ms)."""
    length = round(slice_seconds * 1000)
    if length < 1:
        raise ValueError(f"a slice must last at least 1 ms, not {slice_seconds!r} s")
    return length


def slice_at(moment_ms: int, slice_seconds: float) -> Slice:
    """The slice that holds ``moment_ms``."""
    length = slice_ms(slice_seconds)
    start = moment_ms - moment_ms % length
    return Slice(start, start + length)


def slices_between(first_ms: int, until_ms: int, slice_seconds: float) -> Iterator[Slice]:
    """Every slice from the one holding ``first_ms`` that has ended by ``until_ms``."""
    current = slice_at(first_ms, slice_seconds)
    while current.end <= until_ms:
        yield current
        current = current.next()


def is_aligned(start_ms: int, end_ms: int, slice_seconds: float) -> bool:
    """True when ``[start_ms, end_ms)`` is exactly one slice."""
    return slice_at(start_ms, slice_seconds) == Slice(start_ms, end_ms)


__all__ += ["is_aligned"]
