"""The fleet's own environment and kinds, apart from services/fleet/config.py so that
``__main__`` reads them before logging is set up and before any machine module is imported
(the order every service keeps, shared/service_main.py)."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import LogLevel, Seed

__all__ = ["KINDS", "FleetEnv", "Kind"]

Kind = Literal["robot", "wind", "solar"]
KINDS: tuple[str, ...] = get_args(Kind)


class FleetEnv(BaseSettings):
    """FLEET_SEED (or FLEET_SEED_FILE) and LOG_LEVEL."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    fleet_seed: Seed = Field(
        description="81-tryte master seed; each machine's seed is derived from it and its name"
    )
    log_level: LogLevel = Field("INFO", description="DEBUG, INFO, WARNING or ERROR, any case")
