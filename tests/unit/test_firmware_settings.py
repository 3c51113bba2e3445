"""The device's environment settings fail loudly, naming the variable, hiding the password."""

from __future__ import annotations

import pytest

from firmware.host.settings import FirmwareSettings
from shared.settings import SettingsError, load_settings


def test_bad_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MQTT_URL", "tcp://dev:hunter22@broker")
    monkeypatch.setenv("DEVICE_ID", "a/b")
    monkeypatch.setenv("DEVICE_LOCKS", "0")
    monkeypatch.setenv("MQTT_PREFIX", "x/#")
    with pytest.raises(SettingsError):
        load_settings(FirmwareSettings)
    err = capsys.readouterr().err
    for name in ("MQTT_URL:", "DEVICE_ID:", "DEVICE_LOCKS:", "MQTT_PREFIX:"):
        assert name in err
    assert "hunter22" not in err


def test_good_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MQTT_URL", "mqtt://dev-1:pw@broker:1884")
    monkeypatch.setenv("DEVICE_ID", "dev-1")
    s = load_settings(FirmwareSettings)
    assert s.broker.port == 1884 and s.device_locks == 1
    # Without MQTT_PREFIX the device gets a prefix of its own, the one the default ACL allows.
    assert s.mqtt_prefix == "machine-economy/dev-1"
    monkeypatch.setenv("MQTT_PREFIX", "space/laser")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    s = load_settings(FirmwareSettings)
    assert s.mqtt_prefix == "space/laser" and s.log_level == "DEBUG"
