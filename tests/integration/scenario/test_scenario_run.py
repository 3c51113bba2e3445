"""A scenario run on the real services (services/scenario): the devnet, a wind farm and two
robots (one paying by ledger, one over a channel) as their own processes, customers over
Socket.IO paying on the devnet. The run's exit status, its audit and its files are checked
against what the machines themselves recorded (each robot's and wind's own database)."""

from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from services.scenario.plan import make_plan
from services.scenario.schema import load_scenario
from tests.integration.scenario.cli import run_scenario

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1500)]

ROOT = Path(__file__).resolve().parents[3]


def _orders(database: Path) -> dict[str, str]:
    with sqlite3.connect(database) as db:
        return dict(db.execute("SELECT id, state FROM machine_orders").fetchall())


def test_small_scenario_runs_and_its_report_matches_the_machines(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    status, output = run_scenario(
        "run",
        "scenarios/small.yaml",
        "--duration",
        "20m",
        "--out",
        str(folder),
        "--drain",
        "240",
        # start-up: seconds when quiet, minutes on a loaded 2-core machine
        "--start-timeout",
        "600",
        timeout=1400,
    )
    assert status == 0, output[-4000:]
    assert "audit passed" in output

    summary = json.loads((folder / "summary.json").read_text())
    scenario = load_scenario(ROOT / "scenarios" / "small.yaml").model_copy(
        update={"duration": 1200.0}
    )
    plan = make_plan(scenario)
    orders = summary["orders"]
    # the same arrivals as the plan: every one placed, paid and done
    assert orders["planned"] == len(plan.arrivals) > 0
    assert orders["placed"] == orders["paid"] == orders["done"] == orders["planned"]
    assert orders["failed"] == orders["customer_errors"] == orders["unfinished"] == 0
    assert summary["audit"]["passed"] and summary["audit"]["total"] == summary["audit"]["supply"]
    assert summary["machines_started"] == 3

    with open(folder / "events.csv", newline="") as handle:
        events = list(csv.DictReader(handle))
    done = {e["order_id"]: e["machine"] for e in events if e["kind"] == "order_done"}
    assert len(done) == orders["done"]
    for name in ("ledger-robot-1", "channel-robot-1"):
        machine = summary["machines"][name]
        # the robot's own database: the orders the report calls done, done
        recorded = _orders(next((folder / "data" / name).glob("*.sqlite")))
        mine = {order for order, robot in done.items() if robot == name}
        assert mine and all(recorded[order] == "done" for order in mine), (name, recorded)
        assert machine["orders_done"] == len(mine)
        assert machine["books"] == machine["wallet"] and machine["balanced"]
    # wind delivered energy for each order of both robots (its own records)
    wind_orders = _orders(next((folder / "data" / "wind-1").glob("*.sqlite")))
    assert sum(1 for state in wind_orders.values() if state == "done") == orders["done"]

    report = (folder / "report.html").read_text()
    assert "small: audit passed" in report and "plotly" in report
    assert (folder / "audit.txt").read_text().startswith("economy audit")


def test_a_bad_scenario_is_refused_naming_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: bad\nduration: 1h\nmachines:\n  - type: wind\n  - type: robot\n    provider: hydro\n"
    )
    finished = subprocess.run(
        [sys.executable, "-m", "services.scenario", "run", str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 2
    assert "machines[1].provider: 'hydro' is not a wind or solar group" in (
        finished.stdout + finished.stderr
    ).replace("\n", " ")
