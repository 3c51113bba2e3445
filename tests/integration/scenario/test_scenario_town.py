"""The built-in `town` scenario: a hundred machines in four fleets (services/fleet), a few
simulated hours at 360x on the real services. The run's audit must pass (every machine's
books against its wallet, all balances against the supply) and its report's figures must
equal what the machines themselves recorded in their own databases."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from services.scenario.plan import make_plan
from services.scenario.schema import load_scenario
from tests.integration.scenario.cli import run_scenario

pytestmark = [pytest.mark.integration, pytest.mark.timeout(2700)]

ROOT = Path(__file__).resolve().parents[3]
HOURS = 2


def test_town_of_a_hundred_machines_in_fleets(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    status, output = run_scenario(
        "run",
        "scenarios/town.yaml",
        "--duration",
        f"{HOURS}h",
        "--out",
        str(folder),
        "--drain",
        "300",
        "--start-timeout",
        "900",
        timeout=2400,
    )
    assert status == 0, output[-6000:]
    assert "audit passed" in output

    summary = json.loads((folder / "summary.json").read_text())
    scenario = load_scenario(ROOT / "scenarios" / "town.yaml")
    plan = make_plan(scenario.model_copy(update={"duration": HOURS * 3600.0}))
    assert summary["machines_started"] == len(plan.machines) == 100
    orders = summary["orders"]
    assert orders["planned"] == len(plan.arrivals) > 0
    assert orders["placed"] == orders["paid"] == orders["done"] == orders["planned"]
    assert summary["audit"]["passed"]
    assert summary["audit"]["total"] == summary["audit"]["supply"]
    audit = (folder / "audit.txt").read_text()
    assert audit.startswith("economy audit PASSED")

    # four processes host the hundred machines (and the devnet one more)
    fleets = sorted(p.name for p in (folder / "fleets").glob("*.yaml"))
    assert fleets == ["makers.yaml", "solar-park.yaml", "wind-park.yaml", "workshop.yaml"]
    # every machine's own database (one SQLite file each, in its fleet's folder): the
    # orders the report counts for it, done; its books equal its wallet
    done_total = 0
    for machine in plan.machines:
        recorded = summary["machines"][machine.name]
        assert recorded["books"] == recorded["wallet"] and recorded["balanced"], machine.name
        assert machine.name in audit
        if machine.kind != "robot":
            continue
        database = folder / "data" / f"fleet-{machine.group}" / machine.name
        with sqlite3.connect(next(database.glob("*.sqlite"))) as db:
            states = [row[0] for row in db.execute("SELECT state FROM machine_orders")]
        done = states.count("done")
        assert done == len(states) == recorded["orders_done"], machine.name
        done_total += done
    assert done_total == orders["done"]
