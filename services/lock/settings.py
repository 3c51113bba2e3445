"""Environment settings of the lock controller (docs/lock.md lists every variable)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator

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
