"""The grid's arithmetic, pure: the slice price, the grid's cut and the producers' shares.

- :func:`weighted_price` (default, PRICING=weighted): the output-weighted average of the
  slice's producer prices (the seed's "weighted average based on how much the producer
  contributed").
- :func:`merit_order_price` (PRICING=merit): the cheapest producers first until the
  slice's usage is covered; everyone is paid the marginal (last needed) price.
- :func:`clearing_price`: either, falling back to the last clearing price when no
  producer quoted one.
- :func:`fee`: ``floor(payment * GRID_FEE_PERCENT / 100)``.
- :func:`largest_remainder`: split whole tokens by weights so that every token goes
  somewhere and nobody gets more than one token above their exact share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

__all__ = [
    "PRICING_METHODS",
    "Offer",
    "Pricing",
    "clearing_price",
    "cost_tokens",
    "fee",
    "largest_remainder",
    "merit_order_price",
    "weighted_price",
]

Pricing = Literal["weighted", "merit"]
PRICING_METHODS: tuple[Pricing, ...] = ("weighted", "merit")


@dataclass(frozen=True, slots=True)
class Offer:
    """One producer's output (kWh) in a slice and its asking price (tokens per kWh)."""

    producer: str
    output: float
    price: float


def weighted_price(offers: Sequence[Offer]) -> float | None:
    """Σ output·price / Σ output; the plain mean when nobody produced; None without offers."""
    if not offers:
        return None
    # In exact fractions: equal quotes give exactly that price (999.9999999999999 in floats)
    total = sum((Fraction(offer.output) for offer in offers), Fraction(0))
    if total > 0:
        weighted = sum((Fraction(o.output) * Fraction(o.price) for o in offers), Fraction(0))
        return float(weighted / total)
    return float(sum((Fraction(offer.price) for offer in offers), Fraction(0)) / len(offers))


def merit_order_price(offers: Sequence[Offer], usage: float) -> float | None:
    """The price of the last producer needed to cover ``usage``, cheapest first.

    With no usage the cheapest price clears; when output never covers usage, every
    producer is needed and the dearest price clears. None without offers.
    """
    if not offers:
        return None
    ranked = sorted(offers, key=lambda offer: (offer.price, offer.producer))
    covered = 0.0
    for offer in ranked:
        if offer.output <= 0:
            continue
        covered += offer.output
        if covered >= usage:
            return offer.price
    producing = [offer for offer in ranked if offer.output > 0]
    return (producing or ranked)[-1].price if usage > 0 else ranked[0].price


def clearing_price(
    offers: Sequence[Offer], usage: float, method: Pricing, last_price: float
) -> tuple[float, str]:
    """(price, how it was found) for one slice."""
    price = weighted_price(offers) if method == "weighted" else merit_order_price(offers, usage)
    if price is None:
        return last_price, "last"
    return price, method


def cost_tokens(billed_before: float, billed_after: float) -> int:
    """Whole tokens for the kWh·price added between two running totals.

    Rounding the running total (not each request) means fractions of a token are
    never lost or charged twice across requests.
    """
    return _round_half_up(billed_after) - _round_half_up(billed_before)


def _round_half_up(value: float) -> int:
    return int(Fraction(value) + Fraction(1, 2)) if value >= 0 else -_round_half_up(-value)


def fee(payment: int, percent: int) -> int:
    """The grid's cut: floor(payment x percent / 100), in exact integers."""
    if payment < 0 or not 0 <= percent <= 100:
        raise ValueError("payment must be >= 0 and percent within 0..100")
    return payment * percent // 100


def largest_remainder(total: int, weights: Mapping[str, float]) -> dict[str, int]:
    """Split ``total`` tokens by ``weights`` (Hamilton's method), exactly.

    Each gets the floor of its exact quota; the tokens left go one each to the largest
    remainders (ties by name, so the split is reproducible). Zero or negative weights
    get nothing and do not appear; with no positive weight the result is empty.
    """
    if total < 0:
        raise ValueError("total must be >= 0")
    positive = {name: Fraction(weight) for name, weight in weights.items() if weight > 0}
    whole = sum(positive.values(), Fraction(0))
    if not positive or total == 0:
        return {}
    quotas = {name: total * weight / whole for name, weight in positive.items()}
    shares = {name: int(quota) for name, quota in quotas.items()}
    left = total - sum(shares.values())
    ranked = sorted(quotas, key=lambda name: (-(quotas[name] - shares[name]), name))
    for name in ranked[:left]:
        shares[name] += 1
    return {name: share for name, share in shares.items() if share > 0}
