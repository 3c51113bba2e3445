"""The grid's arithmetic: prices, cut, largest-remainder shares, token rounding."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.grid.pricing import (
    Offer,
    clearing_price,
    cost_tokens,
    fee,
    largest_remainder,
    merit_order_price,
    weighted_price,
)


def test_weighted_price_is_output_weighted() -> None:
    offers = [Offer("a", 3.0, 10), Offer("b", 1.0, 30)]
    assert weighted_price(offers) == pytest.approx(15.0)  # (3*10 + 1*30) / 4
    # nobody produced: the plain mean of the quotes
    assert weighted_price([Offer("a", 0, 10), Offer("b", 0, 20)]) == 15
    assert weighted_price([]) is None
    # equal quotes price at exactly the quote, whatever the outputs (floats gave
    # 999.9999999999999 for one producer's 8e-06 kWh at 1000)
    for output in (1e-06, 8e-06, 3.6e-05, 0.3, 42.621888000000006):
        assert weighted_price([Offer("a", output, 1000)]) == 1000
        assert weighted_price([Offer("a", output, 100), Offer("b", 0.7, 100)]) == 100


def test_merit_order_pays_the_marginal_price() -> None:
    offers = [Offer("dear", 5.0, 50), Offer("cheap", 2.0, 10), Offer("mid", 2.0, 20)]
    assert merit_order_price(offers, 1.5) == 10  # cheap covers it
    assert merit_order_price(offers, 3.0) == 20  # cheap + mid
    assert merit_order_price(offers, 4.0) == 20
    assert merit_order_price(offers, 4.5) == 50
    assert merit_order_price(offers, 100) == 50  # never covered: everyone needed
    assert merit_order_price(offers, 0) == 10
    assert merit_order_price([Offer("idle", 0, 7), Offer("busy", 1, 9)], 5) == 9
    assert merit_order_price([], 1) is None


def test_clearing_price_keeps_the_last_one_without_quotes() -> None:
    assert clearing_price([], 3, "weighted", 42.0) == (42.0, "last")
    assert clearing_price([Offer("a", 1, 7)], 3, "merit", 42.0) == (7, "merit")
    assert clearing_price([Offer("a", 1, 7)], 3, "weighted", 42.0) == (7, "weighted")


def test_fee_is_floored() -> None:
    assert fee(99, 20) == 19
    assert fee(100, 20) == 20
    assert fee(7, 0) == 0 and fee(7, 100) == 7
    with pytest.raises(ValueError):
        fee(1, 101)


def test_largest_remainder_examples() -> None:
    assert largest_remainder(10, {"a": 1, "b": 1, "c": 1}) == {"a": 4, "b": 3, "c": 3}
    assert largest_remainder(80, {"wind": 3.0, "solar": 1.0}) == {"wind": 60, "solar": 20}
    assert largest_remainder(5, {"a": 0, "b": 2}) == {"b": 5}  # no 0i transfers
    assert largest_remainder(5, {"a": 0}) == {}  # no division by zero
    assert largest_remainder(0, {"a": 1}) == {}
    assert largest_remainder(2, {"a": 1, "b": 1, "c": 1}) == {"a": 1, "b": 1}


@given(
    st.integers(0, 10**12),
    st.dictionaries(st.text(min_size=1, max_size=5), st.floats(0, 1e6), max_size=20),
)
def test_largest_remainder_conserves_every_token(total: int, weights: dict[str, float]) -> None:
    shares = largest_remainder(total, weights)
    positive = {k: Fraction(v) for k, v in weights.items() if v > 0}
    if not positive:
        assert shares == {}
        return
    assert sum(shares.values()) == total
    whole = sum(positive.values())
    for name, share in shares.items():
        exact = total * positive[name] / whole
        assert exact - 1 < share < exact + 1


@given(st.lists(st.floats(0, 1e6), max_size=30))
def test_cost_rounding_loses_nothing_over_requests(costs: list[float]) -> None:
    running = 0.0
    charged = 0
    for cost in costs:
        charged += cost_tokens(running, running + cost)
        running += cost
    assert abs(charged - running) <= 0.5 + 1e-6 * max(1.0, running)
