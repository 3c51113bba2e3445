"""Environment settings of a robot."""

from __future__ import annotations

from pydantic import Field

from shared.machine.settings import NAME_PATTERN, MachineSettings

__all__ = ["RobotSettings"]


class RobotSettings(MachineSettings):
    """MachineSettings plus the energy provider this robot pays for each order."""

    name: str = Field("robot 1", min_length=1, max_length=64, pattern=NAME_PATTERN)
    port: int = Field(3000, ge=1, le=65535)
    price: int = Field(100, gt=0, description="price of one product in iota")
    provider_url: str = Field("http://localhost:3001", pattern=r"^https?://")
    provider_share: float = Field(0.1, gt=0, le=1, description="part of the price paid out")
    payout_timeout: float = Field(120.0, gt=0, le=86400)
