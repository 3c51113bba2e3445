"""Environment settings of the EV charger (docs/charger.md)."""

from __future__ import annotations

from pydantic import Field

from shared.machine.settings import NAME_PATTERN, MachineSettings

__all__ = ["ChargerSettings"]


class ChargerSettings(MachineSettings):
    """MachineSettings with the charger's defaults: PRICE is the least a charging session
    must pay, WORK_SECONDS how long one lasts."""

    name: str = Field("charger", min_length=1, max_length=64, pattern=NAME_PATTERN)
    port: int = Field(3005, ge=1, le=65535)
    price: int = Field(5, gt=0, description="least tokens a charging session must pay")
    work_seconds: float = Field(5.0, ge=0, le=3600, description="how long a session lasts")
