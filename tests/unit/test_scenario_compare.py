"""Comparing runs (services/scenario/compare.py) and a scenario's ``sweep:`` (schema.py):
one scenario per value, named by it, a bad value named by its place; the comparison report
of two run folders holds each run's figures and their differences."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from services.scenario.cli import main
from services.scenario.compare import write_comparison
from services.scenario.schema import ScenarioError, validate, variants

SWEPT: dict[str, Any] = {
    "name": "pricing",
    "duration": "2h",
    "clock": {"time_scale": 360},
    "sweep": {"field": "machines[0].pricing", "values": ["weighted", "merit"]},
    "machines": [
        {"type": "grid"},
        {"type": "producer", "price": 90},
        {"type": "wind", "producer": "producer"},
        {"type": "consumer"},
    ],
}


def swept(**sweep: Any) -> dict[str, Any]:
    data = copy.deepcopy(SWEPT)
    data["sweep"].update(sweep)
    return data


def test_a_sweep_is_one_scenario_per_value() -> None:
    runs = variants(validate(swept()))
    assert [r.name for r in runs] == ["pricing-weighted", "pricing-merit"]
    grids = [r.energy_specs()[0] for r in runs]
    assert [getattr(g, "pricing", None) for g in grids] == ["weighted", "merit"]
    assert all(r.sweep is None and r.duration == 7200 for r in runs)
    numbers = variants(validate(swept(field="machines[1].price", values=[50, 150])))
    assert [r.name for r in numbers] == ["pricing-50", "pricing-150"]
    assert variants(validate({**SWEPT, "sweep": None})) == [validate({**SWEPT, "sweep": None})]


def test_a_bad_sweep_is_named() -> None:
    with pytest.raises(ScenarioError) as error:
        validate(swept(values=["weighted", "cheapest"]))
    assert error.value.problems == [
        "sweep.values[1] ('cheapest'): machines[0].pricing: Input should be 'weighted' or 'merit'"
    ]
    with pytest.raises(ScenarioError) as error:
        validate(swept(field="machines[0].colour"))
    assert error.value.problems == [
        "sweep.field: 'machines[0].colour' names no field of this scenario"
    ]
    with pytest.raises(ScenarioError) as error:
        validate(swept(field="machines[9].price"))
    assert "names no field" in error.value.problems[0]
    with pytest.raises(ScenarioError) as error:
        validate(swept(values=["merit"]))
    assert error.value.problems[0].startswith("sweep.values: List should have at least 2 items")


def _summary(name: str, price: float, paid_out: int, passed: bool = True) -> dict[str, Any]:
    return {
        "scenario": name,
        "orders": {"planned": 10, "done": 10, "failed": 0, "latency_p50_s": 1.5},
        "devnet": {"milestones": 100},
        "memory": {"peak_total_mb": 900.0},
        "energy": {
            "slices": 4,
            "settled": 4,
            "price_mean": price,
            "per_slice": [{"index": k, "price": price} for k in range(4)],
            "grid": {"received": 1000, "cut": 200, "paidOut": paid_out, "waiting": 0},
            "grid_producers": {"REG9WIND": {"paidOut": paid_out}},
            "participants": {
                "producer-1": {"kind": "producer", "registration": "REG9WIND", "total_kwh": 9.5},
                "battery-1": {"kind": "battery", "total_kwh": 2.0, "sold_kwh": 1.0},
            },
        },
        "audit": {"passed": passed},
    }


def test_the_comparison_report_of_two_runs(tmp_path: Path) -> None:
    folders = []
    for name, price, paid, passed in (("a", 100.0, 800, True), ("b", 120.0, 780, False)):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "summary.json").write_text(json.dumps(_summary(name, price, paid, passed)))
        folders.append(folder)
    result = write_comparison(folders, tmp_path / "out")
    assert result["runs"] == ["a", "b"] and result["all_passed"] is False
    assert result["figures"]["mean slice price"] == [100.0, 120.0]
    assert result["differences"]["mean slice price"] == [0, 20.0]
    assert result["figures"]["producer-1 paid out by the grid"] == [800, 780]
    assert result["differences"]["producer-1 paid out by the grid"] == [0, -20]
    assert result["figures"]["battery-1 sold kWh"] == [1.0, 1.0]
    assert result["differences"]["audit passed"] == [None, None]
    assert result["figures"]["latency p99 (s)"] == [None, None]
    saved = json.loads((tmp_path / "out" / "comparison.json").read_text())
    assert saved == result
    page = (tmp_path / "out" / "comparison.html").read_text()
    assert "Comparison of 2 runs: AN AUDIT FAILED" in page and "(+20)" in page
    assert "Slice prices" in page and "plotly" in page


def test_validate_and_plan_a_sweep(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = Path(__file__).resolve().parents[2]
    assert main(["validate", str(root / "scenarios" / "pricing.yaml")]) == 0
    assert "a sweep of 2 runs" in capsys.readouterr().out
    assert main(["plan", str(root / "scenarios" / "payouts.yaml")]) == 0
    out = capsys.readouterr().out
    assert "payouts-ledger" in out and "payouts-channel" in out and "by channel" in out
