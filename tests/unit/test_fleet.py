"""The fleet's plan (settings per machine, derived seeds, errors naming the key) and its one
ZMQ subscription fanned out to every machine's payment watcher (services/fleet)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from services.fleet.config import FleetConfigError, FleetFile, machine_seed, plan_fleet
from services.fleet.feed import FeedHub
from shared.iota.zmq_lines import AddressConfirmation
from shared.machine.watcher import PaymentWatcher
from shared.robot import RobotSettings
from shared.settings import _check_seed

SEED = SecretStr("FLEET" + "9" * 76)
A = "A" * 81
B = "B" * 81


def plan(tmp_path: Path, count: int = 3, **file: Any) -> Any:
    return plan_fleet(
        kind="robot",
        count=count,
        fleet_seed=SEED,
        data_dir=tmp_path,
        port=4100,
        base_url="http://fleet:4100",
        file=FleetFile.model_validate(file),
    )


def test_each_machine_gets_its_name_seed_folder_and_url(tmp_path: Path) -> None:
    result = plan(
        tmp_path,
        settings={"price": 120, "work_seconds": 0.5},
        providers=["http://winds:4000/m/wind-1", "http://winds:4000/m/wind-2"],
        machines={"robot-3": {"price": 200}},
    )
    machines = result.machines
    assert [m.name for m in machines] == ["robot-1", "robot-2", "robot-3"]
    first, _, third = (m.settings for m in machines)
    assert isinstance(first, RobotSettings) and isinstance(third, RobotSettings)
    assert (first.price, third.price, first.work_seconds) == (120, 200, 0.5)
    assert first.provider_url.endswith("wind-1") and third.provider_url.endswith("wind-1")
    assert machines[1].settings.provider_url.endswith("wind-2")
    assert first.resolved_database_url().endswith("/robot-1/robot-1.sqlite")
    assert first.channel_public_url == "http://fleet:4100/m/robot-1"
    seeds = {m.settings.seed.get_secret_value() for m in machines}
    assert len(seeds) == 3
    for seed in seeds:
        _check_seed(SecretStr(seed))  # a valid 81-tryte seed
    # reproducible: the same FLEET_SEED and name, the same wallet
    assert first.seed.get_secret_value() == machine_seed(SEED.get_secret_value(), "robot-1")
    assert machine_seed("OTHER" + "9" * 76, "robot-1") != first.seed.get_secret_value()


def test_the_environment_is_every_machines_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRICE", "77")
    monkeypatch.setenv("DATABASE_URL", "sqlite:////tmp/one-for-all.sqlite")
    monkeypatch.setenv("SEED", "X" * 81)
    machines = plan(tmp_path, machines={"robot-2": {"price": 5}}).machines
    assert [m.settings.price for m in machines] == [77, 5, 77]
    # never one database or one seed for all, whatever the environment says
    assert len({m.settings.resolved_database_url() for m in machines}) == 3
    assert all(m.settings.seed.get_secret_value() != "X" * 81 for m in machines)


@pytest.mark.parametrize(
    ("file", "message"),
    [
        ({"machines": {"robot-2": {"price": 0}}}, "machines.robot-2.price: Input should be"),
        ({"machines": {"robot-9": {"price": 1}}}, "machines.robot-9: no such machine"),
        ({"settings": {"seed": "A" * 81}}, "settings.seed: set by the fleet"),
        ({"settings": {"prise": 5}}, "settings.prise: not a setting"),
        ({"machines": {"robot-1": {"iota_node_url": "http://x"}}}, "one for the whole fleet"),
    ],
)
def test_a_mistake_is_named_by_its_key(tmp_path: Path, file: Any, message: str) -> None:
    with pytest.raises(FleetConfigError, match=message):
        plan(tmp_path, **file)


class FakeFeed:
    """A feed of given events, then (``lose``) an error as a dropped socket gives."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[object] = asyncio.Queue()
        self.reachable = asyncio.Event()
        self.reachable.set()

    @asynccontextmanager
    async def open(self) -> AsyncIterator[AsyncIterator[object]]:
        await self.reachable.wait()  # a node that is down: connecting hangs
        yield self._events()

    async def _events(self) -> AsyncIterator[object]:
        while True:
            event = await self.queue.get()
            if isinstance(event, Exception):
                raise event
            yield event


async def test_one_feed_reaches_the_watcher_of_each_machine() -> None:
    feed = FakeFeed()
    hub = FeedHub(feed.open)
    first, second = PaymentWatcher(), PaymentWatcher()
    hub.add(first)
    hub.add(second)
    running = asyncio.create_task(hub.run(retry_delay=0.01, max_delay=0.01))
    machines = [
        asyncio.create_task(w.run(hub.connection, retry_delay=0.01)) for w in (first, second)
    ]
    try:
        async with asyncio.timeout(5):
            while not (first.connected and second.connected):
                await asyncio.sleep(0.01)
        with first.watch(A) as watch_a, second.watch(B) as watch_b:
            await feed.queue.put(AddressConfirmation(address=A, hash="H" * 81, milestone_index=3))
            assert await watch_a.wait_changed(5)
            assert (watch_a.confirmations, watch_b.confirmations) == (1, 0)
            # a lost feed shows on every machine, and they follow the hub back
            feed.reachable.clear()
            await feed.queue.put(ConnectionError("socket closed"))
            async with asyncio.timeout(5):
                while first.connected or second.connected or hub.connected:
                    await asyncio.sleep(0.01)
            feed.reachable.set()
            async with asyncio.timeout(5):
                while not (first.connected and second.connected):
                    await asyncio.sleep(0.01)
            await feed.queue.put(AddressConfirmation(address=B, hash="H" * 81, milestone_index=4))
            assert await watch_b.wait_changed(5)
            assert watch_b.confirmations == 1
        assert hub.events == 2
    finally:
        for task in (running, *machines):
            task.cancel()
        await asyncio.gather(running, *machines, return_exceptions=True)
