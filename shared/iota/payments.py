"""The money rule every service that is paid on the devnet follows (grid and machines).

One place for what happens to a payment (docs/grid.md and docs/robot.md, "Paying more or
less than asked"):

- **Counted or late**: a payment counts only if its tokens are reachable. A payment
  address is held (reserved, never an input) until it expires, then swept once
  (``Wallet.sweep``). Tokens that reach an address after it was swept or spent from can
  never be moved without reusing a key: that part is *late*, reported and never counted
  (:func:`counted_part`).
- **More than asked**: what is counted is applied to what is owed, oldest first; the
  excess is a visible *credit* of the payer (:func:`allocate`), never paid onward as if
  earned. The grid applies a consumer's credit to its next requests; a machine shows it on
  the order.
- **Less than asked**: the order or request keeps waiting with the partial sum visible;
  at expiry an order ends and the partial sum becomes its credit, a grid request stays
  owed (the next request's running ``owed`` includes it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Allocation", "allocate", "counted_part"]


@dataclass(frozen=True, slots=True)
class Allocation:
    """How a sum was applied: ``applied[i]`` to ``open_amounts[i]``; ``excess`` is left."""

    applied: tuple[int, ...]
    excess: int

    @property
    def total(self) -> int:
        return sum(self.applied)


def allocate(value: int, open_amounts: Sequence[int]) -> Allocation:
    """Apply ``value`` tokens to what is owed, oldest first; the rest is the excess.

    >>> allocate(600, [100])
    Allocation(applied=(100,), excess=500)
    >>> allocate(30, [20, 50])
    Allocation(applied=(20, 10), excess=0)
    """
    if value < 0:
        raise ValueError(f"value must not be negative, got {value}")
    left = value
    applied: list[int] = []
    for amount in open_amounts:
        part = min(left, max(0, amount))
        applied.append(part)
        left -= part
    return Allocation(tuple(applied), left)


def counted_part(
    value: int, *, counted_before: int, spent: bool, swept_value: int | None
) -> tuple[int, int] | None:
    """``(counted, late)`` for a confirmed payment of ``value`` to one payment address.

    ``counted_before``: what earlier payments to the address were counted. An address not
    spent from holds everything paid to it: all of it counts. An address swept (or spent
    from) holds nothing after it: what its sweep moved (``swept_value``) is what can count
    in all, and anything beyond is late. ``None``: spent but the sweep's value is not
    known yet (being swept right now): ask again later.
    """
    if value < 0 or counted_before < 0:
        raise ValueError("values must not be negative")
    if not spent:
        return value, 0
    if swept_value is None:
        return None
    counted = max(0, min(value, swept_value - counted_before))
    return counted, value - counted
