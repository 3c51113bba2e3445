"""Environment settings of the lock device when it runs on CPython (one container per device)."""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

from pydantic import AfterValidator, Field, field_validator, model_validator

from shared.mqtt.settings import MqttSettings
from shared.mqtt.topics import TopicError, device_prefix, validate_device_id

__all__ = ["DEFAULT_ROOT", "FirmwareSettings"]

#: Without MQTT_PREFIX the device's prefix is {DEFAULT_ROOT}/{DEVICE_ID}, as the ACL expects.
DEFAULT_ROOT = "machine-economy"


class FirmwareSettings(MqttSettings):
    """Read from MQTT_URL, MQTT_PREFIX, DEVICE_ID, DEVICE_LOCKS, ... (docs/firmware.md).

    MQTT_PREFIX is this device's own ``$prefix`` (seed 004); user name in MQTT_URL = device id.
    """

    device_id: Annotated[str, AfterValidator(validate_device_id)]
    device_locks: int = Field(default=1, ge=1, le=16)
    device_name: str | None = None
    device_ip: str | None = None
    lock_auto_relock_seconds: float = Field(default=0.0, ge=0.0, le=86_400.0)
    mqtt_keepalive: int = Field(default=15, ge=5, le=3600)

    @field_validator("device_name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        from firmware.lockdevice import valid_name

        if value is not None and not valid_name(value):
            raise ValueError("use 1-20 characters of A-Z a-z 0-9 - _")
        return value

    @model_validator(mode="before")
    @classmethod
    def _default_prefix(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("mqtt_prefix"):
            # A missing or bad DEVICE_ID is reported by its own validator.
            with contextlib.suppress(TopicError, TypeError, KeyError):
                return {**data, "mqtt_prefix": device_prefix(DEFAULT_ROOT, data["device_id"])}
        return data
