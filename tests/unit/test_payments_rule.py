"""The money rule every paid service shares (shared/iota/payments.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.iota.payments import allocate, counted_part


def test_overpayment_leaves_an_excess_and_underpayment_none() -> None:
    assert allocate(600, [100]).applied == (100,) and allocate(600, [100]).excess == 500
    assert allocate(30, [100]).applied == (30,) and allocate(30, [100]).excess == 0
    assert allocate(30, [20, 50]).applied == (20, 10)
    assert allocate(30, []).excess == 30  # nothing owed (an expired order): all credit
    with pytest.raises(ValueError):
        allocate(-1, [1])


@given(st.integers(0, 10**6), st.lists(st.integers(0, 10**5), max_size=8))
def test_allocation_keeps_every_token(value: int, owed: list[int]) -> None:
    result = allocate(value, owed)
    assert result.total + result.excess == value
    assert all(0 <= part <= amount for part, amount in zip(result.applied, owed, strict=True))
    # oldest first: a later amount gets something only when every earlier one is full
    for n, part in enumerate(result.applied):
        if part and n:
            assert all(result.applied[k] == owed[k] for k in range(n))


def test_counted_part_caps_a_swept_address_at_what_the_sweep_moved() -> None:
    assert counted_part(77, counted_before=40, spent=False, swept_value=None) == (77, 0)
    assert counted_part(77, counted_before=40, spent=True, swept_value=40) == (0, 77)
    # confirmed before the sweep read its balance, booked after: it was swept, it counts
    assert counted_part(10, counted_before=40, spent=True, swept_value=50) == (10, 0)
    assert counted_part(20, counted_before=40, spent=True, swept_value=50) == (10, 10)
    assert counted_part(5, counted_before=0, spent=True, swept_value=None) is None
