"""Environment settings of the lock controller (docs/lock.md lists every variable)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator

from services.lock.schemas import ToolIn
from shared.iota.trinary import is_trytes
from shared.mqtt.settings import MqttSettings
from shared.ratelimit import RateLimitSettings
from shared.settings import check_admin_password, check_database_url

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
    database_url: SecretStr | None = None
    command_timeout: float = Field(default=5.0, gt=0, le=120)
    lock_admin_username: str = Field(default="admin", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    lock_admin_password: SecretStr | None = None
    lock_admin_circle: str = Field(default="admin", min_length=1, max_length=64)
    lock_token_ttl_seconds: int = Field(default=86_400, ge=60, le=31_536_000)
    # Pay-per-use (issue 23): a payment-channel receiver; off while LOCK_CHANNEL_SEED is unset.
    lock_channel_seed: SecretStr | None = None
    lock_channel_key: SecretStr | None = None
    lock_channel_node_url: str = Field(default="http://devnet:14265", pattern=r"^https?://")
    lock_channel_public_url: str | None = Field(default=None, pattern=r"^https?://")
    lock_channel_database_url: SecretStr | None = None
    lock_channel_mwm: int = Field(default=9, ge=1, le=243)
    lock_channel_watch_interval: float = Field(default=1.0, gt=0, le=60)
    lock_channel_min_timeout: int = Field(default=5, ge=1, le=7 * 24 * 3600)
    lock_minute_seconds: float = Field(default=60.0, gt=0, le=3600)
    lock_grace_seconds: float = Field(default=30.0, ge=0, le=3600)
    # Tools made at start (a JSON list of POST /tools bodies), e.g. the demo's laser cutter:
    # one whose name exists already is left as it is (its pricing may have been changed).
    lock_tools: list[ToolIn] = Field(default_factory=list, max_length=100)

    @field_validator("lock_channel_seed")
    @classmethod
    def _seed(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not is_trytes(value.get_secret_value(), 81):
            raise ValueError("must be exactly 81 trytes (A-Z and 9)")
        return value

    @field_validator("lock_channel_key")
    @classmethod
    def _key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            raw = value.get_secret_value()
            if len(raw) != 64 or any(c not in "0123456789abcdefABCDEF" for c in raw):
                raise ValueError("must be 64 hex characters (an Ed25519 private key)")
        return value

    @field_validator("lock_channel_database_url")
    @classmethod
    def _channel_db(cls, value: SecretStr | None) -> SecretStr | None:
        return check_database_url(value)

    def channel_database(self) -> str:
        if self.lock_channel_database_url is not None:
            return self.lock_channel_database_url.get_secret_value()
        return f"sqlite:///{self.data_dir / 'channels.sqlite'}"

    @field_validator("lock_admin_password")
    @classmethod
    def _password(cls, value: SecretStr | None) -> SecretStr | None:
        return check_admin_password(value)

    @field_validator("database_url")
    @classmethod
    def _db(cls, value: SecretStr | None) -> SecretStr | None:
        return check_database_url(value)

    def database(self) -> str:
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{self.data_dir / 'lock.sqlite'}"
