"""Environment settings of the battery (docs/battery.md lists every variable)."""

from __future__ import annotations

import math

from pydantic import Field, model_validator

from shared.energy.buyer import BuyerSettings
from shared.energy.seller import SellerSettings

__all__ = ["BatterySettings"]


class BatterySettings(BuyerSettings, SellerSettings):
    """A buyer's settings (faucet top-up) and a seller's, plus the battery's own."""

    name: str = Field("battery", min_length=1, max_length=64, pattern=r"^[\w .-]+$")
    port: int = Field(3030, ge=1, le=65535)
    capacity: float = Field(10.0, gt=0, le=1e6, description="kWh it can store")
    charge_rate: float = Field(
        2.0, gt=0, le=1e6, description="kWh it can take in or give out in one slice"
    )
    initial_charge: float = Field(0.0, ge=0, le=1e6, description="kWh stored at the start")
    buy_below: float = Field(
        50.0, ge=0, le=1e12, description="buys in a slice whose price signal is below this"
    )
    sell_above: float = Field(
        150.0, ge=0, le=1e12, description="sells in a slice whose price signal is above this"
    )

    @model_validator(mode="after")
    def _consistent(self) -> BatterySettings:
        if self.initial_charge > self.capacity:
            raise ValueError("INITIAL_CHARGE: more than CAPACITY")
        if self.buy_below > self.sell_above:
            raise ValueError("BUY_BELOW: above SELL_ABOVE (it would sell what it just bought)")
        return self

    def asking_price(self, signal: float | None) -> int:
        """Its ``producerPrice``: the going price (the grid's latest), never less than
        SELL_ABOVE, in whole tokens. Asking only SELL_ABOVE would pull the price of a slice
        it sells in down to its threshold, and then it would not sell in the next one."""
        return math.ceil(max(self.sell_above, signal or 0.0))
