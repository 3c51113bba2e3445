"""Environment settings every machine (robot, wind, solar) shares; services add their own."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from shared.ratelimit import RateLimitSettings
from shared.settings import Ed25519Key, LogLevel, NodeSettings

__all__ = ["NAME_PATTERN", "MachineSettings", "slug"]

#: NAME as docs/robot.md states it: ASCII letters, digits, ``_``, space, ``.`` and ``-``
#: (not ``\w``, which also takes every Unicode letter).
NAME_PATTERN = r"^[A-Za-z0-9_ .-]+$"


def slug(name: str) -> str:
    """A file-name-safe form of a machine name: "robot 1" -> "robot-1"."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "machine"


class MachineSettings(RateLimitSettings, NodeSettings):
    """PORT, NAME, SEED as in seed 000, plus the node, timings, storage and access control."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    port: int = Field(3000, ge=1, le=65535, description="HTTP + Socket.IO port")
    name: str = Field("machine", min_length=1, max_length=64, pattern=NAME_PATTERN)
    price: int = Field(100, gt=0, description="price of one order in iota")
    work_seconds: float = Field(5.0, ge=0, le=3600)
    order_timeout: float = Field(300.0, gt=0, le=86400)
    max_queue: int = Field(10, ge=0, le=1000, description="orders waiting behind the current")
    max_orders_per_connection: int = Field(
        2, ge=0, le=1000, description="open orders one Socket.IO connection may have (0: no limit)"
    )
    max_orders_per_address: int = Field(
        5, ge=0, le=1000, description="open orders one client IP address may have (0: no limit)"
    )
    poll_interval: float = Field(1.0, gt=0, le=60, description="fallback balance poll")
    payment_address_hold_seconds: float = Field(
        120.0,
        ge=0,
        le=30 * 24 * 3600,
        description=(
            "how long an order's address stays held (never spent from) after the order "
            "ended; then it is swept once into a fresh address of the machine's wallet"
        ),
    )
    data_dir: Path = Field(Path("data"))
    database_url: str | None = Field(None, description="default: sqlite under DATA_DIR")
    machine_token: SecretStr | None = Field(None, description="bearer for machine-to-machine")
    # With no MACHINE_TOKEN the guarded routes (energy orders, /channel/close,
    # /source/goodbye) are off unless this says open (shared/auth.py's one rule).
    machine_open: bool = Field(
        False, description="open the MACHINE_TOKEN routes to anyone while no token is set"
    )
    cors_origins: str = Field("*", description="comma-separated origins for browsers, or *")
    min_weight_magnitude: int = Field(9, ge=1, le=243)
    security: int = Field(2, ge=1, le=3)
    depth: int = Field(3, ge=1, le=15)
    log_level: LogLevel = Field("INFO", description="DEBUG, INFO, WARNING or ERROR, any case")
    # Payment channels (seed 003, docs/channels.md): how a robot pays its energy provider.
    provider_payment: Literal["ledger", "channel"] = Field(
        "ledger", description="robot: one ledger transfer per order, or a payment channel"
    )
    channel_key: Ed25519Key | None = Field(
        None, description="Ed25519 key (64 hex); default: derived from SEED"
    )
    channel_public_url: str | None = Field(
        None, pattern=r"^https?://", description="this machine's URL as channel peers reach it"
    )
    channel_deposit: int = Field(1000, gt=0, description="robot: deposit when opening/refilling")
    channel_timeout: int = Field(600, ge=1, le=7 * 24 * 3600, description="channel timeout (s)")
    # Renting a tool of the lock for each product (issue 23, shared/machine/rental.py).
    rent_tool_url: str | None = Field(
        None,
        pattern=r"^https?://",
        description="robot: the lock controller's URL; each product rents a tool there",
    )
    rent_tool_id: int | None = Field(None, ge=1, description="robot: the lock's tool to rent")
    rent_margin_seconds: float = Field(
        1.0, ge=0, le=600, description="robot: pay the next minute this long before time runs out"
    )

    @field_validator("machine_token")
    @classmethod
    def _token_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value() and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters (or unset)")
        return value if value is not None and value.get_secret_value() else None

    @field_validator("rent_tool_url", "rent_tool_id", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # compose passes ${ROBOT1_RENT_TOOL_ID:-} as "" when the user set nothing: not renting
        return None if value == "" else value

    @model_validator(mode="after")
    def _rent_names_url_and_tool(self) -> MachineSettings:
        if (self.rent_tool_url is None) != (self.rent_tool_id is None):
            raise ValueError("RENT_TOOL_URL and RENT_TOOL_ID go together: set both or neither")
        return self

    def resolved_database_url(self) -> str:
        """DATABASE_URL, or a SQLite file named after the machine so two never share one."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / f'{slug(self.name)}.sqlite').resolve()}"

    def cors_origin_list(self) -> list[str] | str:
        origins = [o.strip() for o in self.cors_origins.split(",") if o.strip()]
        return "*" if origins in ([], ["*"]) else origins
