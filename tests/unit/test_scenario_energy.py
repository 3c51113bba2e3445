"""The energy market in a scenario (services/scenario): its fields are checked and named by
their place, the plan's energy per slice is what the real services compute for that slice
in any run, and the same seed gives the same arrivals, energy profiles and prices."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from services.consumer.settings import ConsumerSettings
from services.scenario.energy import EnergyFigures, energy_env
from services.scenario.energy_report import energy_summary
from services.scenario.plan import make_plan
from services.scenario.schema import ScenarioError, load_scenario, validate
from services.wind.settings import ProviderSettings as WindSettings
from shared.energy.simulation import energy_kwh

ROOT = Path(__file__).resolve().parents[2]
SEED = "A" * 81

BASE: dict[str, Any] = {
    "name": "market",
    "seed": 3,
    "duration": "12h",
    "clock": {"time_scale": 360, "slice_seconds": 3600, "start_hour": 5},
    "machines": [
        {"type": "grid", "pricing": "merit", "fee_percent": 10},
        {"type": "producer", "price": 120},
        {"type": "producer", "name": "cheap", "price": 80},
        {"type": "wind", "producer": "producer", "capacity_kw": 6},
        {"type": "solar", "producer": "cheap"},
        {"type": "consumer", "name": "homes", "count": 2, "profile": "commuter"},
        {"type": "battery", "buy_below": 90, "sell_above": 110},
        {"type": "robot", "provider": "wind", "orders_per_hour": 4},
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


def test_an_energy_market_scenario_and_its_machines() -> None:
    parsed = validate(scenario())
    plan = make_plan(parsed)
    assert [m.name for m in plan.machines] == [
        "grid",
        "producer-1",
        "cheap-1",
        "homes-1",
        "homes-2",
        "battery-1",
        "wind-1",
        "solar-1",
        "robot-1",
    ]
    assert plan.machine("wind-1").producer == "producer-1"
    assert plan.machine("solar-1").producer == "cheap-1"
    assert plan.machine("grid").settings["PRICING"] == "merit"
    assert plan.machine("battery-1").settings["SELL_ABOVE"] == "110"
    assert plan.slices == 12 and plan.slice_ms == 10_000
    # a wind farm that feeds no producer is only a robots' provider
    alone = validate(scenario(machines=[{"type": "wind"}]))
    assert not make_plan(alone).machine("wind-1").energy and make_plan(alone).slices == 0


@pytest.mark.parametrize(
    ("index", "change", "expected"),
    [
        (1, {"price": -1}, "machines[1].price: must be >= 0"),
        (5, {"profile": "student"}, "machines[5].profile: Input should be 'family' or 'commuter'"),
        (5, {"load_scale": 0}, "machines[5].load_scale: must be > 0"),
        (0, {"pricing": "cheapest"}, "machines[0].pricing: Input should be 'weighted' or 'merit'"),
        (0, {"fee_percent": 101}, "machines[0].fee_percent: must be <= 100"),
        (0, {"payout": "channel"}, "machines[0].payout: Input should be 'ledger'"),
        (0, {"count": 2}, "machines[0].count: must be <= 1"),
        (6, {"sell_above": 80}, "machines[6].sell_above: must be >= buy_below (90)"),
        (6, {"initial_charge": 11}, "machines[6].initial_charge: must be <= capacity (10)"),
        (6, {"charge_rate": 0}, "machines[6].charge_rate: must be > 0"),
        (3, {"producer": "hydro"}, "machines[3].producer: 'hydro' is not a producer group"),
        (3, {"producer": "homes"}, "machines[3].producer: 'homes' is not a producer group"),
        (3, {"capacity_kw": 0}, "machines[3].capacity_kw: must be > 0"),
    ],
)
def test_a_bad_energy_field_is_named_by_its_place(
    index: int, change: dict[str, Any], expected: str
) -> None:
    data = scenario()
    data["machines"][index].update(change)
    found = problems(data)
    assert any(p.startswith(expected) for p in found), found


def test_the_market_needs_its_grid_and_a_slice_the_services_can_run() -> None:
    no_grid = scenario()
    del no_grid["machines"][0]
    assert problems(no_grid) == ["machines[0]: a producer trades on a grid: add '- type: grid'"]
    two = scenario()
    two["machines"].append({"type": "grid", "name": "other"})
    assert problems(two) == ["machines[8]: a scenario has one grid"]
    # 60 simulated seconds at 360x: a sixth of a real second, shorter than the services allow
    assert problems(scenario(clock={"time_scale": 360, "slice_seconds": 60})) == [
        "clock.slice_seconds: is 0.166667 real seconds at time_scale 360; "
        "the services need 0.5 to 3600"
    ]
    assert problems(scenario(clock={"start_hour": 24})) == ["clock.start_hour: must be < 24"]


def _service_kwh(env: dict[str, str], kind: str, start: int, end: int) -> float:
    """kWh of one slice as the service computes it from the settings the runner gives it."""
    settings: ConsumerSettings | WindSettings
    if kind == "consumer":
        settings = ConsumerSettings.model_validate({k.lower(): v for k, v in env.items()})
        return energy_kwh(settings.model(), settings.clock(), start, end)
    settings = WindSettings.model_validate({k.lower(): v for k, v in env.items()})
    return energy_kwh(settings.model("wind"), settings.clock(), start, end)


@pytest.mark.parametrize("epoch_ms", [1_765_000_000_000, 1_765_123_450_000])
def test_slice_k_has_the_planned_kwh_whenever_the_run_starts(epoch_ms: int) -> None:
    """The runner starts the energy clock at a slice boundary of its run (SIM_EPOCH_MS):
    the services then compute, for slice k of the run, exactly the plan's kWh."""
    plan = make_plan(validate(scenario()))
    urls = {m.name: f"http://127.0.0.1:{4000 + i}" for i, m in enumerate(plan.machines)}
    for name, kind in (("homes-2", "consumer"), ("wind-1", "wind")):
        machine = plan.machine(name)
        env = energy_env(
            machine, plan, urls, epoch_ms=epoch_ms, faucet_url="http://x:1", faucet_token="t"
        )
        env |= {"SEED": SEED, "NAME": name}
        for k in (0, 3, 11):
            start = epoch_ms + k * plan.slice_ms
            assert _service_kwh(env, kind, start, start + plan.slice_ms) == plan.energy(name, k)
    producer = energy_env(
        plan.machine("producer-1"), plan, urls, epoch_ms=1, faucet_url="u", faucet_token="t"
    )
    assert producer["GRID_URL"] == urls["grid"] and producer["PRODUCER_PRICE"] == "120"
    battery = energy_env(
        plan.machine("battery-1"), plan, urls, epoch_ms=1, faucet_url="u", faucet_token="t"
    )
    assert battery["FAUCET_URL"] == "u" and battery["BUY_BELOW"] == "90"


def test_the_same_seed_gives_the_same_arrivals_energy_and_prices() -> None:
    first, again = make_plan(validate(scenario())), make_plan(validate(scenario()))
    assert first.arrivals == again.arrivals and first.arrivals
    assert first.energy_profiles() == again.energy_profiles()
    assert (
        first.prices()
        == again.prices()
        == {
            "producer-1": [120] * 12,
            "cheap-1": [80] * 12,
        }
    )
    profiles = first.energy_profiles()
    assert set(profiles) == {"homes-1", "homes-2", "wind-1", "solar-1"}
    # two households of one group differ (each its own model seed), and all use energy
    assert profiles["homes-1"] != profiles["homes-2"]
    assert all(kwh > 0 for kwh in profiles["homes-1"])
    # solar makes nothing at night: the day starts at 05:00, so slice 0 (05-06 h) is dark
    assert profiles["solar-1"][0] == 0 and max(profiles["solar-1"]) > 0
    other = make_plan(validate(scenario(seed=4)))
    assert other.energy_profiles()["homes-1"] != profiles["homes-1"]
    assert [a.at for a in other.arrivals] != [a.at for a in first.arrivals]


def test_a_households_profile_does_not_depend_on_the_rest_of_the_scenario() -> None:
    plan = make_plan(validate(scenario()))
    smaller = scenario()
    del smaller["machines"][7]  # the robots gone
    del smaller["machines"][2]  # and a producer
    smaller["machines"][3]["producer"] = "producer"
    again = make_plan(validate(smaller))
    assert again.energy_profiles()["homes-2"] == plan.energy_profiles()["homes-2"]


def test_the_energy_summary_of_a_run() -> None:
    plan = make_plan(validate(scenario()))
    epoch, length = 1_765_000_000_000, plan.slice_ms
    figures = EnergyFigures(epoch, length, epoch + 2 * length, epoch + 5 * length)
    for k in range(1, 6):
        start = epoch + k * length
        figures.prices[start] = {
            "startTime": start,
            "price": 100.0 + k,
            "method": "merit",
            "output": 3.0,
            "usage": 2.0,
            "missingQuotes": [],
        }
    run = figures.run_slices()
    figures.kwh["homes-1"] = {s: 0.5 for s in run}
    figures.kwh["battery-1"] = {run[0]: 1.0}
    figures.sold["battery-1"] = {run[2]: 1.0}
    summary = energy_summary(figures, plan)
    assert summary["slices"] == summary["settled"] == 3
    assert [s["index"] for s in summary["per_slice"]] == [2, 3, 4]
    assert summary["price_min"] == 102.0 and summary["price_max"] == 104.0
    assert summary["participants"]["homes-1"]["total_kwh"] == 1.5
    assert summary["participants"]["homes-1"]["planned_kwh"]["3"] == plan.energy("homes-1", 3)
    battery = summary["participants"]["battery-1"]
    assert battery["bought_kwh"] == 1.0 and battery["sold_kwh"] == 1.0
    assert summary["failures"] == []


def test_the_demo_scenario_is_the_compose_economy() -> None:
    demo = load_scenario(ROOT / "scenarios" / "demo.yaml")
    kinds = sorted(m.kind for m in make_plan(demo).machines)
    assert kinds == sorted(
        ["robot", "robot", "wind", "solar", "producer", "consumer", "consumer", "grid", "battery"]
    )
    assert demo.clock.real_slice_seconds == 10  # ENERGY_SLICE_SECONDS
