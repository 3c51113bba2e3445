"""A wrong environment stops a service at start with a message naming the variable."""

from __future__ import annotations

from pathlib import Path

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


# -- <VARIABLE>_FILE: secrets from files (Docker secrets, the compose init step) --------------
def test_a_variable_is_read_from_its_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("from-a-file\n")
    monkeypatch.delenv("EXAMPLE_PASSWORD", raising=False)
    monkeypatch.setenv("EXAMPLE_PASSWORD_FILE", str(secret))
    monkeypatch.setenv("EXAMPLE_PORT_FILE", str(secret.with_name("port")))
    secret.with_name("port").write_text("8081")
    settings = load_settings(ExampleSettings)
    # one trailing newline is dropped (`echo x | docker secret create` adds one)
    assert settings.password.get_secret_value() == "from-a-file"
    assert settings.port == 8081


def test_a_non_empty_variable_wins_over_its_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret = tmp_path / "password"
    secret.write_text("from-a-file")
    monkeypatch.setenv("EXAMPLE_PASSWORD_FILE", str(secret))
    monkeypatch.setenv("EXAMPLE_PASSWORD", "from-the-environment")
    assert load_settings(ExampleSettings).password.get_secret_value() == "from-the-environment"
    # compose passes `${VAR:-}`: an empty variable means "not given", so the file counts
    monkeypatch.setenv("EXAMPLE_PASSWORD", "")
    assert load_settings(ExampleSettings).password.get_secret_value() == "from-a-file"


def test_an_unreadable_file_names_the_file_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "nope"
    monkeypatch.delenv("EXAMPLE_PASSWORD", raising=False)
    monkeypatch.setenv("EXAMPLE_PASSWORD_FILE", str(missing))
    with pytest.raises(SettingsError) as caught:
        load_settings(ExampleSettings)
    assert caught.value.code == 2
    assert f"EXAMPLE_PASSWORD_FILE: cannot read {missing} (No such file" in caught.value.message
    big = tmp_path / "big"
    big.write_bytes(b"x" * 70_000)
    monkeypatch.setenv("EXAMPLE_PASSWORD_FILE", str(big))
    with pytest.raises(SettingsError, match=r"EXAMPLE_PASSWORD_FILE: .* is larger than"):
        load_settings(ExampleSettings)


def test_a_bad_value_from_a_file_is_never_echoed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Even a field that is not a SecretStr hides what its file held."""
    port = tmp_path / "port"
    port.write_text("SECRET-LOOKING-PORT")
    monkeypatch.setenv("EXAMPLE_PASSWORD", "x")
    monkeypatch.setenv("EXAMPLE_PORT_FILE", str(port))
    with pytest.raises(SettingsError) as caught:
        load_settings(ExampleSettings)
    assert "EXAMPLE_PORT (from EXAMPLE_PORT_FILE): " in caught.value.message
    assert "SECRET-LOOKING-PORT" not in caught.value.message


def test_every_service_settings_class_takes_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The support is in load_settings, so every service gets it without code of its own."""
    from services.devnet.settings import DevnetSettings
    from services.robot.settings import RobotSettings

    seed = "FILESEED" + "9" * 73
    path = tmp_path / "seed"
    path.write_text(seed + "\n")
    for variable in ("SEED", "DEVNET_FAUCET_SEED"):
        monkeypatch.delenv(variable, raising=False)
        monkeypatch.setenv(variable + "_FILE", str(path))
    assert load_settings(RobotSettings).seed.get_secret_value() == seed
    assert load_settings(DevnetSettings).faucet_seed.get_secret_value() == seed
