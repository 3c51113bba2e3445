"""The EV charger (docs/charger.md, built in docs/adding-a-machine.md) as a real process on a
real devnet: a robot whose PROVIDER_URL is the charger sells an order, orders a charging
session from the charger and pays it its share on the devnet; the charger charges, and
every token is accounted for (books equal wallets, the supply whole)."""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio

from tests.integration.robot.machines import ServiceProcess, machine_env
from tests.support.audit import Economy
from tests.support.devnet import DevnetProcess, devnet_fixture

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


def wait(what: str, done: Callable[[], Any], timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := done()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
    return result


@pytest.fixture
def devnet(tmp_path: Path) -> Iterator[DevnetProcess]:
    with devnet_fixture(tmp_path / "devnet", milestone_interval=0.5) as node:
        yield node


def charger_process(devnet: DevnetProcess, data: Path, token: str) -> ServiceProcess:
    """``python -m services.charger`` on a free port, on the devnet (not started yet)."""
    env = machine_env(devnet, "charger", data, work_seconds=0.2, machine_token=token)
    return ServiceProcess("charger", env, data)


def robot_process(devnet: DevnetProcess, data: Path, token: str, charger: str) -> ServiceProcess:
    env = machine_env(
        devnet,
        "robot 1",
        data,
        provider_url=charger,  # the provider it orders from and pays its share to
        price=100,
        work_seconds=0.2,
        machine_token=token,
    )
    return ServiceProcess("robot", env, data)


def sell_one_order(devnet: DevnetProcess, robot: str, charger: str) -> dict[str, Any]:
    """A customer orders from the robot and pays it from the faucet; the robot orders a
    charging session and pays the charger its share. The robot's order, once done."""
    statuses: list[str] = []
    watcher = socketio.Client()
    watcher.on("status", lambda data: statuses.append(data["status"]))
    watcher.connect(charger, socketio_path="sockets", transports=["websocket"])
    customer = socketio.Client()
    customer.connect(robot, socketio_path="sockets", transports=["websocket"])
    try:
        reply = customer.call("order", {}, timeout=30)
        devnet.faucet(reply["address"], 100)

        def done() -> dict[str, Any] | None:
            order: dict[str, Any] = httpx.get(f"{robot}/orders/{reply['order_id']}").json()
            return order if order["state"] == "done" else None

        order: dict[str, Any] = wait("the robot's order to be done", done)
        session = httpx.get(f"{charger}/energy-orders/{reply['order_id']}").json()
        assert session["customer"] == "robot 1" and session["price"] == 10
        wait("the charger to finish", lambda: statuses[-1:] == ["waiting_for_order"])
        assert statuses[-4:] == [
            "waiting_for_tx",
            "waiting_for_tx_confirm",
            "working",
            "waiting_for_order",
        ]
        return order
    finally:
        customer.disconnect()
        watcher.disconnect()


def test_a_robot_buys_a_charging_session_and_pays_on_the_devnet(
    devnet: DevnetProcess, tmp_path: Path
) -> None:
    token = secrets.token_hex(16)  # MACHINE_TOKEN: only robots holding it may order
    with contextlib.ExitStack() as stack:
        # a loaded machine may take minutes to import a service: wait up to 10
        charger = charger_process(devnet, tmp_path / "charger", token).start(timeout=600)
        stack.callback(charger.stop)
        assert httpx.get(charger.url + "/health").json()["status"] == "ok"
        assert httpx.get(charger.url + "/").json() == {
            "name": "charger",
            "status": "waiting_for_order",
        }
        robot = robot_process(devnet, tmp_path / "robot", token, charger.url).start(timeout=600)
        stack.callback(robot.stop)

        order = sell_one_order(devnet, robot.url, charger.url)

        forged = {"order_id": "forged1", "robot": "mallory", "amount": 10}
        assert httpx.post(charger.url + "/energy-orders", json=forged).status_code == 401
        economy = Economy(devnet.api_url)  # tests/support/audit.py
        economy.add(robot.url, charger.url)
        audit = economy.check()  # books == wallet for each, the supply whole
        assert audit.row("charger").books == order["payout_value"] == 10
        assert audit.row("robot 1").books == 90
