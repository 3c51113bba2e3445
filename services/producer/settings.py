"""Environment settings of the producer (docs/producer.md lists every variable)."""

from __future__ import annotations

from pydantic import Field

from shared.energy.seller import SellerSettings

__all__ = ["ProducerSettings"]


class ProducerSettings(SellerSettings):
    """The seller's settings (price, aggregation delay) under the producer's name and port."""

    name: str = Field("producer", min_length=1, max_length=64, pattern=r"^[\w .-]+$")
    port: int = Field(3010, ge=1, le=65535)
