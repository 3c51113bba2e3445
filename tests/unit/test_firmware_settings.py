"""The device's environment settings fail loudly, naming the variable, hiding the password."""

from __future__ import annotations

from pathlib import Path

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


def test_mqtt_password_from_a_file_replaces_the_urls(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Compose gives MQTT_URL without a password and MQTT_PASSWORD_FILE (a generated secret)."""
    from services.lock.settings import LockSettings

    secret = tmp_path / "lock_device_mqtt_password"
    secret.write_text("0123abcd" * 4 + "\n")
    monkeypatch.setenv("MQTT_URL", "mqtt://dev-1@broker:1883")
    monkeypatch.setenv("MQTT_PASSWORD_FILE", str(secret))
    monkeypatch.setenv("DEVICE_ID", "dev-1")
    for broker in (load_settings(FirmwareSettings).broker, load_settings(LockSettings).broker):
        assert (broker.username, broker.password) == ("dev-1", "0123abcd" * 4)
        assert "0123abcd" not in broker.redacted()
    # without one, the URL's own password stays
    monkeypatch.delenv("MQTT_PASSWORD_FILE")
    monkeypatch.setenv("MQTT_URL", "mqtt://dev-1:pw@broker:1883")
    assert load_settings(FirmwareSettings).broker.password == "pw"
