"""Environment settings of the consumer (docs/consumer.md lists every variable)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.energy.buyer import BuyerSettings
from shared.energy.simulation import HouseholdLoad, SimClock

__all__ = ["ConsumerSettings"]


class ConsumerSettings(BuyerSettings):
    """The buyer's settings (its faucet top-up) plus the household model."""

    name: str = Field("consumer", min_length=1, max_length=64, pattern=r"^[\w .-]+$")
    port: int = Field(3020, ge=1, le=65535)
    profile: Literal["family", "commuter"] = Field(
        "family", description="household load profile (morning and evening peaks)"
    )
    load_scale: float = Field(1.0, gt=0, le=1e6, description="multiplies the profile's kW")
    time_scale: float = Field(1.0, gt=0, le=100_000, description="simulated seconds per second")
    sim_seed: int = Field(0, ge=0, description="seed of the load model (reproducible runs)")
    sim_start_hour: float = Field(0.0, ge=0, lt=24, description="simulated hour at the epoch")
    sim_epoch_ms: int = Field(
        0, ge=0, description="wall-clock Unix ms at which simulated time starts (scenarios)"
    )

    def model(self) -> HouseholdLoad:
        return HouseholdLoad(seed=self.sim_seed, profile=self.profile, scale=self.load_scale)

    def clock(self) -> SimClock:
        return SimClock(self.time_scale, self.sim_start_hour, self.sim_epoch_ms)
