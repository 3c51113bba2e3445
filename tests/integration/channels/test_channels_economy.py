"""In the economy: a robot (PROVIDER_PAYMENT=channel) pays the wind provider over a channel.

Real processes: the devnet with its agent, wind and robot 1. Two customer orders are paid
on the ledger; each order's energy payout is an off-ledger payment on one channel, which
wind counts as its energy order's payment; closing the channel settles on the devnet.
"""

from __future__ import annotations

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

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevnetProcess]:
    """A devnet of this module's own: the audit below counts every escrow and address on
    it, so the package's shared devnet (other tests' escrows and payers) would not add up."""
    with devnet_fixture(tmp_path_factory.mktemp("devnet"), milestone_interval=0.5) as node:
        yield node


def _until(what: str, check: Callable[[], Any], timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.3)
    raise AssertionError(f"not reached in {timeout}s: {what}")


def _order(robot: ServiceProcess) -> dict[str, Any]:
    client = socketio.SimpleClient()
    client.connect(robot.url, socketio_path="sockets", transports=["websocket"])
    try:
        reply: dict[str, Any] = client.call("order", {"product": "headphones"}, timeout=60)
    finally:
        client.disconnect()
    return reply


def _state(url: str) -> str:
    return str(httpx.get(url, timeout=30).json()["state"])


def test_robot_pays_its_provider_over_a_channel(devnet: DevnetProcess, tmp_path: Path) -> None:
    token = secrets.token_hex(16)
    wind = ServiceProcess(
        "wind",
        machine_env(
            devnet, "wind", tmp_path / "wind", price=1, work_seconds=0.2, machine_token=token
        ),
        tmp_path / "wind",
    )
    robot = ServiceProcess(
        "robot",
        machine_env(
            devnet,
            "robot 1",
            tmp_path / "robot",
            provider_url="",  # set below, once wind's port is known
            price=100,
            work_seconds=0.2,
            machine_token=token,
            provider_payment="channel",
        ),
        tmp_path / "robot",
    )
    robot.env["PROVIDER_URL"] = wind.url
    try:
        wind.start(timeout=300)
        robot.start(timeout=300)
        for n in range(2):
            reply = _order(robot)
            order_id = reply["order_id"]
            devnet.faucet(reply["address"], 100)
            robot_order = f"{robot.url}/orders/{order_id}"
            wind_order = f"{wind.url}/energy-orders/{order_id}"

            def finished(url: str = robot_order) -> bool:
                return _state(url) in ("done", "failed", "expired")

            def delivered(url: str = wind_order) -> bool:
                return _state(url) == "done"

            _until(f"order {n} finished", finished)
            assert _state(robot_order) == "done"
            _until("wind's energy order done", delivered)
            energy = httpx.get(f"{wind.url}/energy-orders/{order_id}").json()
            assert energy["price"] == 10
        card = httpx.get(f"{robot.url}/channel").json()["channels"]
        assert len(card) == 1, card  # one channel, opened once
        assert card[0]["status"] == "open"
        assert card[0]["amount_spent_by_me"] == 20 and card[0]["my_payments_count"] == 2
        received = httpx.get(f"{wind.url}/channel").json()["channels"]
        assert received[0]["amount_spent_by_peer"] == 20
        assert received[0]["peer_payments_count"] == 2
        # every token accounted for: the robot's deposit sits in the agent's escrow, as
        # the agent's books say; wind is paid at the settlement, not before
        economy = Economy(devnet.api_url)
        economy.add(robot.url, wind.url)
        audit = economy.check()
        escrows = audit.row("escrows")
        assert escrows.books is not None and escrows.holds == escrows.books > 0
        assert audit.row("robot 1").books == 200 - escrows.holds
    finally:
        robot.stop()
        robot.kill()
        wind.stop()
        wind.kill()
