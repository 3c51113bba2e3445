"""Environment settings of the lock controller (docs/lock.md lists every variable)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from services.lock.schemas import ToolIn
from shared.mqtt.settings import MqttSettings
from shared.ratelimit import RateLimitSettings
from shared.settings import AdminPassword, DatabaseUrl, Ed25519Key, Seed

__all__ = ["LockSettings"]


class LockSettings(MqttSettings, RateLimitSettings):
    """The lock controller's configuration; a bad value stops the service at start.

    ``MQTT_PREFIX`` (from :class:`MqttSettings`) is the root under which devices have their
    default prefix ``{MQTT_PREFIX}/{device_id}``.
    """

    name: str = "lock"
    host: str = "0.0.0.0"
    port: int = Field(default=8080, ge=0, le=65535)
    data_dir: Path = Path("data/lock")
    database_url: DatabaseUrl = None
    command_timeout: float = Field(default=5.0, gt=0, le=120)
    lock_admin_username: str = Field(default="admin", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    lock_admin_password: AdminPassword = None
    lock_admin_circle: str = Field(default="admin", min_length=1, max_length=64)
    lock_token_ttl_seconds: int = Field(default=86_400, ge=60, le=31_536_000)
    # Pay-per-use (issue 23): a payment-channel receiver; off while LOCK_CHANNEL_SEED is unset.
    lock_channel_seed: Seed | None = None
    lock_channel_key: Ed25519Key | None = None
    lock_channel_node_url: str = Field(default="http://devnet:14265", pattern=r"^https?://")
    lock_channel_public_url: str | None = Field(default=None, pattern=r"^https?://")
    lock_channel_database_url: DatabaseUrl = None
    lock_channel_mwm: int = Field(default=9, ge=1, le=243)
    lock_channel_watch_interval: float = Field(default=1.0, gt=0, le=60)
    lock_channel_min_timeout: int = Field(default=5, ge=1, le=7 * 24 * 3600)
    lock_minute_seconds: float = Field(default=60.0, gt=0, le=3600)
    lock_grace_seconds: float = Field(default=30.0, ge=0, le=3600)
    # Tools made at start (a JSON list of POST /tools bodies), e.g. the demo's laser cutter:
    # one whose name exists already is left as it is (its pricing may have been changed).
    lock_tools: list[ToolIn] = Field(default_factory=list, max_length=100)

    def channel_database(self) -> str:
        if self.lock_channel_database_url is not None:
            return self.lock_channel_database_url.get_secret_value()
        return f"sqlite:///{self.data_dir / 'channels.sqlite'}"

    def database(self) -> str:
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{self.data_dir / 'lock.sqlite'}"
