"""A wrong environment stops a service at start with a message naming the variable."""

from __future__ import annotations

import pytest
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import SettingsError, load_settings


class ExampleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EXAMPLE_")

    port: int = Field(default=3000, ge=1, le=65535)
    password: SecretStr


def test_valid_environment_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXAMPLE_PORT", "8080")
    monkeypatch.setenv("EXAMPLE_PASSWORD", "hunter2")
    settings = load_settings(ExampleSettings)
    assert settings.port == 8080
    assert settings.password.get_secret_value() == "hunter2"


def test_each_bad_variable_is_named_and_secrets_are_not_echoed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EXAMPLE_PORT", "not-a-port")
    monkeypatch.delenv("EXAMPLE_PASSWORD", raising=False)
    with pytest.raises(SettingsError) as caught:
        load_settings(ExampleSettings)
    assert caught.value.code == 2
    message = capsys.readouterr().err
    assert "EXAMPLE_PORT: " in message and "'not-a-port'" in message
    assert "EXAMPLE_PASSWORD: Field required" in message


def test_secret_value_never_appears(monkeypatch: pytest.MonkeyPatch) -> None:
    class SeedSettings(BaseSettings):
        seed: SecretStr = Field(min_length=81)

    monkeypatch.setenv("SEED", "TOPSECRET")
    with pytest.raises(SettingsError) as caught:
        load_settings(SeedSettings)
    assert "SEED:" in caught.value.message
    assert "TOPSECRET" not in caught.value.message
