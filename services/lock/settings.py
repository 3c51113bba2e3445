"""Environment settings of the lock controller (docs/lock.md lists every variable)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.mqtt.topics import validate_prefix
from shared.mqtt.url import MqttUrl, parse_mqtt_url

__all__ = ["LockSettings"]

_PLACEHOLDERS = {"changeme", "change-me", "password", "admin", "secret", "12345678"}


class LockSettings(BaseSettings):
    """The lock controller's configuration; a bad value stops the service at start."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    name: str = "lock"
    host: str = "0.0.0.0"
    port: int = Field(default=8080, ge=0, le=65535)
    data_dir: Path = Path("data/lock")
    database_url: SecretStr | None = None
    mqtt_url: SecretStr
    # Replaces the password of MQTT_URL; lets the password come from MQTT_PASSWORD_FILE.
    mqtt_password: SecretStr | None = None
    mqtt_prefix: str = "machine-economy"
    command_timeout: float = Field(default=5.0, gt=0, le=120)
    lock_admin_username: str = Field(default="admin", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    lock_admin_password: SecretStr | None = None
    lock_admin_circle: str = Field(default="admin", min_length=1, max_length=64)
    lock_token_ttl_seconds: int = Field(default=86_400, ge=60, le=31_536_000)
    log_level: str = "INFO"

    @field_validator("mqtt_url")
    @classmethod
    def _url(cls, value: SecretStr) -> SecretStr:
        parse_mqtt_url(value.get_secret_value())
        return value

    @field_validator("mqtt_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        return validate_prefix(value)

    @field_validator("lock_admin_password")
    @classmethod
    def _password(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        secret = value.get_secret_value()
        if len(secret) < 8 or secret.lower() in _PLACEHOLDERS:
            raise ValueError("use at least 8 characters and not a placeholder")
        return value

    @field_validator("database_url")
    @classmethod
    def _db(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(("sqlite", "postgresql")):
            raise ValueError("use a sqlite:// or postgresql+psycopg:// URL")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("use DEBUG, INFO, WARNING or ERROR")
        return value.upper()

    @property
    def broker(self) -> MqttUrl:
        url = parse_mqtt_url(self.mqtt_url.get_secret_value())
        if self.mqtt_password is not None and self.mqtt_password.get_secret_value():
            return dataclasses.replace(url, password=self.mqtt_password.get_secret_value())
        return url

    def database(self) -> str:
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{self.data_dir / 'lock.sqlite'}"
