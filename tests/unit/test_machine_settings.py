"""NAME of a robot, wind or solar machine is what docs/robot.md says: ``[A-Za-z0-9_ .-]``."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.robot.settings import RobotSettings
from services.solar.settings import ProviderSettings as SolarSettings
from services.wind.settings import ProviderSettings as WindSettings
from shared.machine.settings import MachineSettings

SEED = "A" * 81
CLASSES = [MachineSettings, RobotSettings, WindSettings, SolarSettings]


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("name", ["robot 1", "Wind_2", "solar-farm.north", "x"])
def test_ascii_names_are_accepted(
    monkeypatch: pytest.MonkeyPatch, cls: type[MachineSettings], name: str
) -> None:
    monkeypatch.setenv("SEED", SEED)
    monkeypatch.setenv("NAME", name)
    assert cls().name == name


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize(
    "name", ["rob\u00f6t", "\u98ce\u529b", "\u0662", "a/b", "tab\there", "x" * 65]
)
def test_other_names_are_refused(
    monkeypatch: pytest.MonkeyPatch, cls: type[MachineSettings], name: str
) -> None:
    monkeypatch.setenv("SEED", SEED)
    monkeypatch.setenv("NAME", name)
    with pytest.raises(ValidationError) as caught:
        cls()
    assert [error["loc"] for error in caught.value.errors()] == [("name",)]
