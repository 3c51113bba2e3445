"""Groups hosted as fleets (``fleet: true``, services/scenario/fleets.py): what the runner
gives ``python -m services.fleet``, checked against the fleet's own config reader."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr

from services.fleet.config import load_file, plan_fleet
from services.scenario.fleets import fleet_groups
from services.scenario.plan import make_plan
from services.scenario.schema import ScenarioError, validate

BASE: dict[str, Any] = {
    "name": "fleets",
    "seed": 3,
    "duration": "1h",
    "clock": {"time_scale": 100},
    "machines": [
        {"type": "wind", "name": "park", "count": 3, "fleet": True, "price": 2},
        {"type": "solar", "price": 5},
        {
            "type": "robot",
            "name": "shop",
            "count": 5,
            "fleet": True,
            "provider": "park",
            "price": 70,
            "work_seconds": 50,
        },
        {"type": "robot", "name": "lone", "provider": "solar"},
    ],
}


def test_fleet_groups_share_one_port_and_serve_each_machine_under_its_name(
    tmp_path: Path,
) -> None:
    plan = make_plan(validate(copy.deepcopy(BASE), "s.yaml"))
    urls = {m.name: f"http://127.0.0.1:{7000 + i}" for i, m in enumerate(plan.machines)}
    fleets = fleet_groups(plan.machines, urls)
    assert sorted(fleets) == ["park", "shop"]  # the lone solar and robot run on their own
    shop = fleets["shop"]
    assert [m.name for m in shop.machines] == [f"shop-{n}" for n in range(1, 6)]
    assert shop.port == int(urls["shop-1"].rsplit(":", 1)[1])
    assert shop.urls["shop-3"] == f"http://127.0.0.1:{shop.port}/m/shop-3"

    # The config the runner writes is one the fleet accepts, and gives each robot the
    # settings a lone robot of the group gets: its own provider in the park fleet.
    urls |= fleets["park"].urls
    config = shop.config(time_scale=100, urls=urls)
    path = tmp_path / "shop.yaml"
    path.write_text(yaml.safe_dump(config))
    hosted = plan_fleet(
        kind="robot",
        count=len(shop.machines),
        fleet_seed=SecretStr("A" * 81),
        data_dir=tmp_path / "data",
        port=shop.port,
        base_url=shop.base_url,
        file=load_file(path),
    )
    by_name = {h.name: h.settings for h in hosted.machines}
    assert sorted(by_name) == sorted(m.name for m in shop.machines)
    for machine in shop.machines:
        settings = by_name[machine.name]
        assert settings.price == 70 and settings.work_seconds == 0.5  # 50 simulated s at 100x
        assert getattr(settings, "provider_url") == urls[machine.provider or ""]  # noqa: B009
        assert "/m/park-" in getattr(settings, "provider_url")  # noqa: B009
    seeds = {s.seed.get_secret_value() for s in by_name.values()}
    assert len(seeds) == 5  # a wallet of its own each


def test_a_source_that_feeds_a_producer_is_not_a_fleet() -> None:
    data = copy.deepcopy(BASE)
    data["machines"] = [
        {"type": "grid"},
        {"type": "producer"},
        {"type": "wind", "fleet": True, "producer": "producer"},
        *data["machines"][2:3],
    ]
    data["machines"][3]["provider"] = "wind"
    with pytest.raises(ScenarioError) as error:
        validate(data, "s.yaml")
    assert any(
        p.startswith("machines[2]") and "feeds a producer runs as its own process" in p
        for p in error.value.problems
    ), error.value.problems
