"""Environment settings of the consumer (docs/consumer.md lists every variable)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator

from shared.energy.service import EnergyServiceSettings
from shared.energy.simulation import HouseholdLoad, SimClock

__all__ = ["ConsumerSettings"]


class ConsumerSettings(EnergyServiceSettings):
    """EnergyServiceSettings plus the household model and the faucet top-up."""

    name: str = Field("consumer", min_length=1, max_length=64, pattern=r"^[\w .-]+$")
    port: int = Field(3020, ge=1, le=65535)
    profile: Literal["family", "commuter"] = Field(
        "family", description="household load profile (morning and evening peaks)"
    )
    load_scale: float = Field(1.0, gt=0, le=1e6, description="multiplies the profile's kW")
    time_scale: float = Field(1.0, gt=0, le=100_000, description="simulated seconds per second")
    sim_seed: int = Field(0, ge=0, description="seed of the load model (reproducible runs)")
    sim_start_hour: float = Field(0.0, ge=0, lt=24, description="simulated hour at epoch 0")
    faucet_url: str | None = Field(
        None, pattern=r"^https?://", description="devnet faucet (POST {url}/faucet) for top-ups"
    )
    faucet_token: SecretStr | None = Field(None, description="bearer token of the faucet")
    faucet_amount: int = Field(10_000, gt=0, le=10**12, description="tokens asked per top-up")
    faucet_interval: float = Field(
        20.0, ge=0, le=86_400, description="least seconds between two top-ups"
    )

    @field_validator("faucet_token")
    @classmethod
    def _empty_is_none(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value() else None

    def model(self) -> HouseholdLoad:
        return HouseholdLoad(seed=self.sim_seed, profile=self.profile, scale=self.load_scale)

    def clock(self) -> SimClock:
        return SimClock(self.time_scale, self.sim_start_hour)
