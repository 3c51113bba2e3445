"""The scenario file (services/scenario/schema.py) and its plan (plan.py): errors name the
field, and the same seed gives the same machines and arrivals."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from services.scenario.cli import main
from services.scenario.plan import make_plan
from services.scenario.schema import ScenarioError, load_scenario, parse_duration, validate

ROOT = Path(__file__).resolve().parents[2]

BASE: dict[str, Any] = {
    "name": "test",
    "seed": 7,
    "duration": "2h",
    "clock": {"time_scale": 120},
    "machines": [
        {"type": "wind", "count": 2, "price": 10},
        {"type": "solar", "price": 5},
        {"type": "robot", "count": 3, "provider": "wind", "orders_per_hour": 30},
        {"type": "robot", "name": "fast", "provider": "solar", "payment": "channel"},
    ],
}


def scenario(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data.update(changes)
    return data


def problems(data: object) -> list[str]:
    with pytest.raises(ScenarioError) as error:
        validate(data, "s.yaml")
    return error.value.problems


def test_a_valid_scenario_and_its_durations() -> None:
    parsed = validate(scenario())
    assert parsed.duration == 7200 and parsed.real_duration == 60
    assert parsed.machine_count() == 7
    assert [parse_duration(v) for v in (90, "90s", "15m", "2h", "1d", "1.5h")] == [
        90,
        90,
        900,
        7200,
        86400,
        5400,
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"count": 0}, "machines[2].count: must be >= 1"),
        ({"count": 1001}, "machines[2].count: must be <= 1000"),
        ({"price": -1}, "machines[2].price: must be >= 1"),
        ({"payment": "cash"}, "machines[2].payment: Input should be 'ledger' or 'channel'"),
        ({"colour": "red"}, "machines[2].colour: is not a field of this section (misspelt?)"),
        ({"provider": "hydro"}, "machines[2].provider: 'hydro' is not a wind or solar group"),
    ],
)
def test_a_bad_machine_field_is_named_by_its_place(change: dict[str, Any], expected: str) -> None:
    data = scenario()
    data["machines"][2].update(change)
    found = problems(data)
    assert any(p.startswith(expected) for p in found), found


def test_other_mistakes_are_named() -> None:
    assert problems(scenario(duration="soon")) == [
        "duration: a duration is a number of seconds or a text like '15m' or '2h'"
    ]
    assert problems(scenario(machnes=[])) == ["machnes: is not a field of this section (misspelt?)"]
    no_type = scenario()
    del no_type["machines"][0]["type"]
    assert problems(no_type) == [
        "machines[0]: needs a type: (robot, wind, solar, grid, producer, consumer, battery)"
    ]
    bad_type = scenario()
    bad_type["machines"][0]["type"] = "toaster"
    assert problems(bad_type)[0].startswith("machines[0]: type must be one of")
    twice = scenario()
    twice["machines"][1]["name"] = "wind"
    assert problems(twice) == [
        "machines[1]: the group name 'wind' is used twice (give one of them a name:)"
    ]
    assert problems(scenario(clock={"time_scale": 0})) == ["clock.time_scale: must be > 0"]
    assert problems([1, 2]) == ["(top level): a scenario is a mapping of fields"]


def test_a_file_that_is_not_yaml_or_missing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nmachines: [\n")
    with pytest.raises(ScenarioError) as error:
        load_scenario(bad)
    assert "not valid YAML" in str(error.value) and "line" in str(error.value)
    with pytest.raises(ScenarioError, match="cannot read the file"):
        load_scenario(tmp_path / "missing.yaml")


def test_the_same_seed_gives_the_same_plan() -> None:
    first, again = make_plan(validate(scenario())), make_plan(validate(scenario()))
    assert first == again
    assert [m.name for m in first.machines] == [
        "wind-1",
        "wind-2",
        "solar-1",
        "robot-1",
        "robot-2",
        "robot-3",
        "fast-1",
    ]
    # robots share their group's providers round-robin
    assert [m.provider for m in first.robots()] == ["wind-1", "wind-2", "wind-1", "solar-1"]
    other = make_plan(validate(scenario(seed=8)))
    assert [a.at for a in other.arrivals] != [a.at for a in first.arrivals]


def test_a_robots_arrivals_do_not_depend_on_the_rest_of_the_scenario() -> None:
    plan = make_plan(validate(scenario()))
    smaller = scenario(clock={"time_scale": 10})
    del smaller["machines"][3]  # another group gone, another time scale
    again = make_plan(validate(smaller))
    mine = [a for a in plan.arrivals if a.robot == "robot-2"]
    assert mine == [a for a in again.arrivals if a.robot == "robot-2"]


def test_arrivals_are_a_poisson_process_at_the_rate() -> None:
    plan = make_plan(validate(scenario(duration="100h")))
    per_robot = [sum(1 for a in plan.arrivals if a.robot == f"robot-{n}") for n in (1, 2, 3)]
    # 30 an hour over 100 h: 3,000 expected, sd ~55
    assert all(2800 < count < 3200 for count in per_robot), per_robot
    assert all(0 <= a.at < 100 * 3600 for a in plan.arrivals)
    assert plan.arrivals == sorted(plan.arrivals, key=lambda a: (a.at, a.robot))


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.yaml")))
def test_the_built_in_scenarios_are_valid(path: Path) -> None:
    assert main(["validate", str(path)]) == 0


def test_the_cli_exits_2_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nduration: 1h\nmachines:\n  - type: wind\n    count: 0\n")
    assert main(["validate", str(bad)]) == 2
    assert "machines[0].count: must be >= 1" in capsys.readouterr().err
