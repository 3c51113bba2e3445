"""Environment settings of the dashboard."""

from __future__ import annotations

import json
from typing import Annotated

from pydantic import BaseModel, Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from shared.ratelimit import RateLimitSettings
from shared.settings import LogLevel

__all__ = ["DashboardSettings", "MachineLink"]


class MachineLink(BaseModel):
    """One machine as the BROWSER reaches it (so: a URL that works from the user's machine)."""

    name: str = Field(min_length=1, max_length=64)
    url: str = Field(pattern=r"^https?://[^\s]+$")
    provider: str | None = Field(default=None, description="the name of a robot's energy provider")
    # Where the DASHBOARD SERVER reaches the machine (compose: its service name); the
    # browser always uses ``url``.
    api_url: str | None = Field(default=None, pattern=r"^https?://[^\s]+$")


DEFAULT_MACHINES = [
    MachineLink(name="robot 1", url="http://localhost:3000", provider="wind"),
    MachineLink(name="wind", url="http://localhost:3001"),
    MachineLink(name="robot 2", url="http://localhost:3002", provider="solar"),
    MachineLink(name="solar", url="http://localhost:3003"),
]


class DashboardSettings(RateLimitSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    port: int = Field(8000, ge=1, le=65535)
    host: str = "0.0.0.0"
    name: str = Field("dashboard", min_length=1, max_length=64)
    # NoDecode: we parse the JSON ourselves so that bad JSON is a "MACHINES: ..." line too
    machines: Annotated[list[MachineLink], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_MACHINES)
    )
    faucet_url: str = Field("http://localhost:14265", pattern=r"^https?://")
    # The devnet's IRI API as the server reaches it (the explorer and the overview read it);
    # empty means FAUCET_URL.
    node_url: str = Field("", pattern=r"^(https?://.*)?$")
    collect_seconds: float = Field(2.0, ge=0.2, le=60)
    history_seconds: float = Field(3600.0, ge=60, le=7 * 86400)
    max_points: int = Field(10_000, ge=100, le=100_000)
    lock_url: str | None = Field(None, pattern=r"^https?://")
    lock_user: str | None = None
    lock_password: SecretStr | None = None
    # Where a person opens the page; printed at start (compose knows the published port).
    public_url: str | None = Field(None, pattern=r"^https?://")
    faucet_token: SecretStr | None = None
    pay_limit: int = Field(10_000, gt=0, description="most a visitor may pay per click")
    pay_per_minute: int = Field(10, gt=0, description="payments per client address per minute")
    pay_value_per_hour: int = Field(
        100_000, gt=0, description="value one client address may pay per hour"
    )
    log_level: LogLevel = Field("INFO", description="DEBUG, INFO, WARNING or ERROR, any case")

    @field_validator("machines", mode="before")
    @classmethod
    def _parse_json(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError as error:
                raise ValueError(f"not valid JSON ({error.msg} at {error.pos})") from None
        return value

    @field_validator("machines")
    @classmethod
    def _unique_names(cls, value: list[MachineLink]) -> list[MachineLink]:
        names = [m.name for m in value]
        if len(set(names)) != len(names):
            raise ValueError("machine names must be unique")
        known = set(names)
        for machine in value:
            if machine.provider is not None and machine.provider not in known:
                raise ValueError(f"{machine.name}: provider {machine.provider!r} is not listed")
        return value

    @field_validator("node_url")
    @classmethod
    def _node_defaults_to_faucet(cls, value: str, info: ValidationInfo) -> str:
        return value or str(info.data.get("faucet_url", ""))

    @field_validator("lock_url", "lock_user", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("faucet_token", "lock_password")
    @classmethod
    def _empty_is_none(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value() else None
