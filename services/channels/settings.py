"""``CHANNELS_*`` settings of the channel node service (docs/channels.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from shared.ratelimit import RateLimitSettings
from shared.settings import LogLevel

__all__ = ["ChannelSettings"]


class ChannelSettings(RateLimitSettings):
    model_config = SettingsConfigDict(env_prefix="CHANNELS_", extra="ignore")

    role: Literal["all", "front", "background"] = "all"
    host: str = "0.0.0.0"
    port: int = Field(8700, ge=1, le=65535)
    public_url: str = Field(min_length=8, max_length=400)
    node_url: str = "http://devnet:14265"
    agent_url: str | None = None  # defaults to node_url: the devnet hosts the agent
    seed: SecretStr | None = None
    key: SecretStr | None = None  # Ed25519 private key, 64 hex characters
    key_file: Path | None = None
    database_url: str | None = None
    data_dir: Path = Path("data/channels")
    admin_token: SecretStr | None = None
    security: int = Field(2, ge=1, le=3)
    mwm: int = Field(9, ge=1, le=27)
    default_timeout: int = Field(600, ge=1)
    min_timeout: int = Field(5, ge=1)
    max_timeout: int = Field(7 * 24 * 3600, ge=1)
    watch_interval: float = Field(1.0, gt=0, le=60)
    # Seconds one call to the IOTA node may wait for an answer (the wallet's calls).
    node_timeout: float = Field(15.0, gt=0, le=600)
    name: str = Field("", max_length=64)
    log_level: LogLevel = "info"
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    # A channel is made for many small payments from one peer (bench/channels: >= 500/s).
    rate_limit_per_second: float = Field(1000.0, ge=0, le=1e6)
    rate_limit_burst: int = Field(2000, ge=1, le=1_000_000)

    @field_validator("public_url", "node_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _secrets(self) -> ChannelSettings:
        if self.role != "front" and self.seed is None:
            raise ValueError("CHANNELS_SEED is required unless CHANNELS_ROLE=front")
        if self.key is None and self.key_file is None:
            raise ValueError("set CHANNELS_KEY or CHANNELS_KEY_FILE (Ed25519 key, 64 hex)")
        return self

    def key_hex(self) -> str:
        if self.key is not None:
            return self.key.get_secret_value().strip()
        assert self.key_file is not None
        return self.key_file.read_text().strip()
