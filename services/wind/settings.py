"""Environment settings of the wind energy provider."""

from __future__ import annotations

from pydantic import Field

from shared.machine.settings import NAME_PATTERN, MachineSettings

__all__ = ["ProviderSettings"]


class ProviderSettings(MachineSettings):
    """MachineSettings; PRICE is the least an energy order must pay."""

    name: str = Field("wind", min_length=1, max_length=64, pattern=NAME_PATTERN)
    port: int = Field(3001, ge=1, le=65535)
    price: int = Field(1, gt=0, description="minimum amount of an energy order in iota")
    work_seconds: float = Field(2.0, ge=0, le=3600, description="time to deliver the energy")
