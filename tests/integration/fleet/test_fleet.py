"""Fleets as real processes on a real devnet: 20 robots in one process, 2 wind providers in
another; customers order from a few robots over Socket.IO exactly as from a robot run alone,
pay on the devnet, and every machine's books equal its wallet (docs/fleet.md)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio

from tests.support.audit import Economy
from tests.support.devnet import DevnetProcess, devnet_fixture
from tests.support.fleet import FleetProcess

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

ROBOTS = 20
FLOW = [
    "waiting_for_tx",
    "waiting_for_tx_confirm",
    "payout_provider",
    "working",
    "waiting_for_order",
]


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevnetProcess]:
    with devnet_fixture(tmp_path_factory.mktemp("devnet"), milestone_interval=0.5) as node:
        yield node


@pytest.fixture(scope="module")
def token() -> str:
    return secrets.token_hex(16)


@pytest.fixture(scope="module")
def winds(
    devnet: DevnetProcess, tmp_path_factory: pytest.TempPathFactory, token: str
) -> Iterator[FleetProcess]:
    config = {"settings": {"work_seconds": 0.2}}
    env = {"MACHINE_TOKEN": token}
    data = tmp_path_factory.mktemp("winds")
    with FleetProcess("wind", 2, devnet, data, config=config, env=env) as fleet:
        yield fleet


@pytest.fixture(scope="module")
def robots(
    devnet: DevnetProcess,
    winds: FleetProcess,
    tmp_path_factory: pytest.TempPathFactory,
    token: str,
) -> Iterator[FleetProcess]:
    config = {
        "settings": {"price": 100, "work_seconds": 0.2},
        "providers": [winds.machine_url("wind-1"), winds.machine_url("wind-2")],
        "machines": {"robot-20": {"price": 150}},
    }
    env = {"MACHINE_TOKEN": token}
    data = tmp_path_factory.mktemp("robots")
    with FleetProcess("robot", ROBOTS, devnet, data, config=config, env=env) as fleet:
        yield fleet


class Customer:
    """A python-socketio client of one hosted robot, recording what it pushes."""

    def __init__(self, fleet: FleetProcess, name: str) -> None:
        self.events: list[tuple[str, Any]] = []
        self.client = socketio.Client()
        for event in ("welcome", "status", "balance", "error", "queued"):
            self.client.on(event, self._recorder(event))
        self.client.connect(
            fleet.url, socketio_path=fleet.socketio_path(name), transports=["websocket"]
        )

    def _recorder(self, name: str) -> Any:
        return lambda data=None: self.events.append((name, data))

    def statuses(self, order_id: str) -> list[str]:
        return [
            d["status"] for e, d in self.events if e == "status" and d.get("order_id") == order_id
        ]

    def wait(self, predicate: Any, what: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; events: {self.events}")
            time.sleep(0.05)


def test_a_fleet_hosts_each_machine_under_its_own_path(
    robots: FleetProcess, winds: FleetProcess
) -> None:
    index = httpx.get(robots.url + "/").json()
    assert index["kind"] == "robot" and index["machines"] == ROBOTS
    assert index["started"] == ROBOTS and index["zmqConnected"] is True
    assert [m["path"] for m in index["hosted"]] == [f"/m/robot-{i}" for i in range(1, 21)]
    for name in ("robot-1", "robot-20"):
        assert httpx.get(robots.machine_url(name) + "/").json() == {
            "name": name,
            "status": "waiting_for_order",
        }
        assert httpx.get(robots.machine_url(name) + "/health").status_code == 200
    # each its own wallet (seeds differ): their first order addresses differ too
    assert httpx.get(winds.machine_url("wind-2") + "/").json()["name"] == "wind-2"
    assert httpx.get(robots.url + "/m/robot-21/").status_code == 404
    assert httpx.get(robots.url + "/health").json()["status"] == "ok"


def test_customers_order_pay_and_every_books_equal_the_wallet(
    devnet: DevnetProcess, robots: FleetProcess, winds: FleetProcess
) -> None:
    # robot i pays wind-1 when i is odd, wind-2 when even (providers round-robin)
    chosen = {"robot-1": 100, "robot-2": 100, "robot-20": 150}
    customers = {name: Customer(robots, name) for name in chosen}
    try:
        for name, customer in customers.items():
            customer.wait(lambda c=customer: c.events[:1] != [], what=f"{name} welcome")
            assert customer.events[0] == ("welcome", {"name": name, "status": "waiting_for_order"})
        orders = {}
        for name, customer in customers.items():
            reply = customer.client.call("order", {"product": "headphones"}, timeout=30)
            assert reply["price"] == chosen[name] and len(reply["address"]) == 81
            orders[name] = reply
        addresses = {reply["address"] for reply in orders.values()}
        assert len(addresses) == len(chosen)  # three wallets, three fresh addresses
        for reply in orders.values():
            devnet.faucet(reply["address"], reply["price"])
        for name, customer in customers.items():
            order_id = orders[name]["order_id"]
            customer.wait(
                lambda c=customer, o=order_id: c.statuses(o)[-1:] == ["waiting_for_order"],
                what=f"{name}'s whole flow",
            )
            assert customer.statuses(order_id) == FLOW
    finally:
        for customer in customers.values():
            customer.client.disconnect()

    for name, reply in orders.items():
        order = httpx.get(f"{robots.machine_url(name)}/orders/{reply['order_id']}").json()
        assert order["state"] == "done"
        assert order["payout_value"] == round(chosen[name] * 0.1)
        wind = "wind-1" if name == "robot-1" else "wind-2"
        energy = httpx.get(f"{winds.machine_url(wind)}/energy-orders/{reply['order_id']}").json()
        assert energy["customer"] == name and energy["price"] == order["payout_value"]
    untouched = httpx.get(robots.machine_url("robot-5") + "/orders").json()
    assert untouched == []

    economy = Economy(devnet.api_url)
    economy.add(*(robots.machine_url(f"robot-{i}") for i in range(1, ROBOTS + 1)))
    economy.add(winds.machine_url("wind-1"), winds.machine_url("wind-2"))
    audit = economy.check(timeout=120)
    books = {name: audit.row(name).books for name in (*chosen, "robot-5", "wind-1", "wind-2")}
    assert books == {
        "robot-1": 90,
        "robot-2": 90,
        "robot-20": 135,
        "robot-5": 0,
        "wind-1": 10,
        "wind-2": 25,
    }


def test_a_bad_config_exits_2_naming_the_setting(devnet: DevnetProcess, tmp_path: Path) -> None:
    fleet = FleetProcess(
        "robot", 3, devnet, tmp_path, config={"machines": {"robot-2": {"price": 0}}}
    )
    with pytest.raises(RuntimeError, match=r"exited with 2") as failed:
        fleet.start(timeout=60)
    assert "machines.robot-2.price" in str(failed.value)
