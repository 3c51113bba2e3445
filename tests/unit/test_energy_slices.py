"""Wall-clock slices: aligned to SLICE_SECONDS, contiguous, the same for every party."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.energy.slices import Slice, is_aligned, slice_at, slice_ms, slices_between


def test_slice_of_a_moment() -> None:
    assert slice_at(1542267468229, 30) == Slice(1542267450000, 1542267480000)
    assert slice_at(1542267450000, 30).start == 1542267450000  # a boundary starts its slice
    assert slice_at(1999, 0.5) == Slice(1500, 2000)
    assert slice_ms(2) == 2000
    with pytest.raises(ValueError, match="at least 1 ms"):
        slice_ms(0)


def test_slices_between_only_ended_ones() -> None:
    assert list(slices_between(10_500, 40_000, 10)) == [
        Slice(10_000, 20_000),
        Slice(20_000, 30_000),
        Slice(30_000, 40_000),
    ]
    assert list(slices_between(10_500, 19_999, 10)) == []


def test_alignment() -> None:
    assert is_aligned(30_000, 60_000, 30)
    assert not is_aligned(30_001, 60_001, 30)
    assert not is_aligned(30_000, 90_000, 30)


@given(st.integers(0, 2**50), st.integers(1, 3600))
def test_slice_holds_its_moment_and_neighbours_touch(moment: int, seconds: int) -> None:
    current = slice_at(moment, seconds)
    assert current.start <= moment < current.end
    assert current.start % (seconds * 1000) == 0
    assert current.next().start == current.end
    assert current.previous().end == current.start
    assert slice_at(current.end, seconds) == current.next()
