"""What the battery does in a slice, pure: buy below one price, sell above another, within
its capacity and its charge rate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Decision", "decide"]

Action = Literal["buy", "sell", "idle"]


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    kwh: float


def decide(
    *,
    charge: float,
    capacity: float,
    rate: float,
    price: float | None,
    buy_below: float,
    sell_above: float,
) -> Decision:
    """Buy ``min(rate, room)`` kWh when ``price`` is below ``buy_below``, sell
    ``min(rate, charge)`` when above ``sell_above``; idle without a price (the grid has
    priced nothing yet), between the two, or when full (buying) or empty (selling)."""
    if price is not None and price < buy_below:
        room = max(0.0, capacity - charge)
        kwh = round(min(rate, room), 6)
        if kwh > 0:
            return Decision("buy", kwh)
    elif price is not None and price > sell_above:
        kwh = round(min(rate, max(0.0, charge)), 6)
        if kwh > 0:
            return Decision("sell", kwh)
    return Decision("idle", 0.0)
