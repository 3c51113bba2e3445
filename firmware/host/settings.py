"""Environment settings of the lock device when it runs on CPython (one container per device)."""

from __future__ import annotations

import dataclasses

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.mqtt.topics import validate_device_id, validate_prefix
from shared.mqtt.url import MqttUrl, parse_mqtt_url

__all__ = ["FirmwareSettings"]


class FirmwareSettings(BaseSettings):
    """Read from MQTT_URL, MQTT_PREFIX, DEVICE_ID, DEVICE_LOCKS, ... (docs/firmware.md)."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    mqtt_url: SecretStr = Field(description="mqtt://user:password@host:port; user = device id")
    # Replaces the password of MQTT_URL; lets the password come from MQTT_PASSWORD_FILE.
    mqtt_password: SecretStr | None = None
    mqtt_prefix: str = "machine-economy"
    device_id: str
    device_locks: int = Field(default=1, ge=1, le=16)
    device_name: str | None = None
    device_ip: str | None = None
    lock_auto_relock_seconds: float = Field(default=0.0, ge=0.0, le=86_400.0)
    mqtt_keepalive: int = Field(default=15, ge=5, le=3600)
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

    @field_validator("device_id")
    @classmethod
    def _device_id(cls, value: str) -> str:
        return validate_device_id(value)

    @field_validator("device_name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        from firmware.lockdevice import valid_name

        if value is not None and not valid_name(value):
            raise ValueError("use 1-20 characters of A-Z a-z 0-9 - _")
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
