"""Environment settings of the grid (docs/grid.md lists every variable)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import SettingsConfigDict

from shared.db import sqlite_url
from shared.ratelimit import RateLimitSettings
from shared.settings import LogLevel, NodeSettings

__all__ = ["MAX_ITEM_BYTES", "GridSettings"]

# The storage API refuses an item (a request body) over 1 MiB.
MAX_ITEM_BYTES = 1024 * 1024


class GridSettings(RateLimitSettings, NodeSettings):
    """The grid's configuration; a bad value stops the service at start, naming it."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    port: int = Field(4000, ge=1, le=65535, description="HTTP port (the original's 4000)")
    name: str = Field("grid", min_length=1, max_length=64, pattern=r"^[\w .-]+$")
    data_dir: Path = Field(Path("data/grid"))
    database_url: SecretStr | None = Field(None, description="default: sqlite under DATA_DIR")
    slice_seconds: float = Field(30.0, ge=0.5, le=86400, description="slice length (s)")
    grid_fee_percent: int = Field(20, ge=0, le=100, description="the grid's cut of a payment")
    pricing: Literal["weighted", "merit"] = Field("weighted")
    grid_default_price: float = Field(
        10.0, ge=0, le=1e12, description="tokens per kWh before any producer quoted a price"
    )
    poll_seconds: float = Field(1.0, gt=0, le=300, description="how often channels are read")
    settle_delay_seconds: float = Field(
        1.0, ge=0, le=3600, description="grace after a slice ends before it is billed"
    )
    quote_grace_seconds: float | None = Field(
        None,
        ge=0,
        le=86400,
        description="how long after a slice ends its missing producer quotes are waited for "
        "(default: two slices, at least 30 s)",
    )
    payout_interval_seconds: float = Field(
        1.0, gt=0, le=3600, description="how often planned producer payouts are sent"
    )
    payment_scan_seconds: float = Field(
        5.0, gt=0, le=3600, description="fallback scan for payments the ZMQ feed missed"
    )
    payment_address_hold_seconds: float = Field(
        120.0,
        ge=0,
        le=30 * 24 * 3600,
        description=(
            "how long a payment request's address stays held (never spent from) after the "
            "request; then it is swept once into a fresh address of the grid's wallet"
        ),
    )
    attach_concurrency: int = Field(
        4, ge=1, le=64, description="payment requests attached to the tangle at once"
    )
    address_pool_size: int = Field(
        20,
        ge=0,
        le=10_000,
        description="wallet addresses derived ahead for payment requests (>= consumers)",
    )
    storage_max_items: int = Field(
        10_000, ge=1, le=10_000_000, description="storage items per registration"
    )
    min_weight_magnitude: int = Field(9, ge=1, le=243)
    depth: int = Field(3, ge=1, le=15)
    security: int = Field(2, ge=1, le=3)
    # The audit trail (services/grid/audit.py): off while GRID_LEDGER_URL is empty.
    grid_ledger_url: str = Field(
        "", pattern=r"^(https?://\S+)?$", description="a ledger gateway (services/ledger)"
    )
    grid_ledger_public_url: str = Field(
        "", pattern=r"^(https?://\S+)?$", description="the gateway as a browser reaches it"
    )
    grid_ledger_username: str = Field("admin", pattern=r"^[A-Za-z0-9_.@-]{1,64}$")
    grid_ledger_password: SecretStr | None = Field(None, validate_default=True)
    grid_ledger_name: str = Field("grid-settlements", min_length=1, max_length=200)
    grid_ledger_ttl: float = Field(
        20.0, ge=1, le=300, description="time_to_live of each ledger round (seconds)"
    )
    log_level: LogLevel = "INFO"

    @field_validator("grid_ledger_url", "grid_ledger_public_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("grid_ledger_password")
    @classmethod
    def _ledger_password(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        # Half a configuration would record nothing and say nothing: refuse it at start.
        if info.data.get("grid_ledger_url") and (value is None or not value.get_secret_value()):
            raise ValueError("needed when GRID_LEDGER_URL is set (or leave GRID_LEDGER_URL empty)")
        return value if value is not None and value.get_secret_value() else None

    def quote_grace_ms(self) -> int:
        """QUOTE_GRACE_SECONDS in ms; unset: two slices, at least 30 s (a producer quotes
        half a slice after the slice ends by default, then attaches and the grid reads it:
        on a loaded 2-core host that took more than 20 s; waiting longer only delays
        billing while a registered producer is down)."""
        if self.quote_grace_seconds is not None:
            return round(self.quote_grace_seconds * 1000)
        return round(max(2 * self.slice_seconds, 30.0) * 1000)

    @property
    def audit_enabled(self) -> bool:
        return bool(self.grid_ledger_url)

    def resolved_database_url(self) -> str:
        """DATABASE_URL, or ``<DATA_DIR>/grid.db``."""
        if self.database_url is not None and self.database_url.get_secret_value():
            return self.database_url.get_secret_value()
        return sqlite_url(self.data_dir.resolve(), "grid")
