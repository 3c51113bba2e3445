"""Environment settings of the producer (docs/producer.md lists every variable)."""

from __future__ import annotations

from pydantic import Field

from shared.energy.service import EnergyServiceSettings

__all__ = ["ProducerSettings"]


class ProducerSettings(EnergyServiceSettings):
    """EnergyServiceSettings plus the producer's price and aggregation delay."""

    name: str = Field("producer", min_length=1, max_length=64, pattern=r"^[\w .-]+$")
    port: int = Field(3010, ge=1, le=65535)
    producer_price: int = Field(
        10, ge=0, le=10**12, description="asking price in IOTA tokens per kWh (producerPrice)"
    )
    settle_seconds: float | None = Field(
        None,
        ge=0,
        le=3600,
        description="wait this long after a slice ends for its sources (default: half a slice)",
    )

    def settle_ms(self) -> int:
        seconds = self.slice_seconds / 2 if self.settle_seconds is None else self.settle_seconds
        return round(seconds * 1000)
