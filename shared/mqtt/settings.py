"""Settings every MQTT process of the lock system shares (the controller and the device).

``MqttSettings`` is the one place that reads and checks ``MQTT_URL``, ``MQTT_PASSWORD``,
``MQTT_PREFIX`` and ``LOG_LEVEL``; services/lock/settings.py and firmware/host/settings.py
extend it.
"""

from __future__ import annotations

import dataclasses

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.mqtt.topics import validate_prefix
from shared.mqtt.url import MqttUrl, parse_mqtt_url
from shared.settings import LogLevel

__all__ = ["MqttSettings"]


class MqttSettings(BaseSettings):
    """``MQTT_URL`` (mqtt://user:password@host:port), ``MQTT_PREFIX``, ``LOG_LEVEL``."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    mqtt_url: SecretStr
    # Replaces the password of MQTT_URL, so it can come from MQTT_PASSWORD_FILE (compose's
    # generated secrets) while the URL holds none.
    mqtt_password: SecretStr | None = None
    mqtt_prefix: str = "machine-economy"
    log_level: LogLevel = "INFO"

    @field_validator("mqtt_url")
    @classmethod
    def _url(cls, value: SecretStr) -> SecretStr:
        parse_mqtt_url(value.get_secret_value())
        return value

    @field_validator("mqtt_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        return validate_prefix(value)

    @property
    def broker(self) -> MqttUrl:
        url = parse_mqtt_url(self.mqtt_url.get_secret_value())
        if self.mqtt_password is not None and self.mqtt_password.get_secret_value():
            return dataclasses.replace(url, password=self.mqtt_password.get_secret_value())
        return url
