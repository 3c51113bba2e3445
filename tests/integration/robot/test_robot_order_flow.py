"""Robot + wind + devnet as real processes: order over Socket.IO, pay, watch it all happen."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from shared.machine.status import TERMINAL_STATES
from shared.machine.store import OrderStore
from tests.integration.robot.machines import ServiceProcess
from tests.support.audit import Economy
from tests.support.devnet import DevnetProcess

# 600 s: the economy audit at the end of each test adds up to a minute on a loaded machine
pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

FLOW = [
    "waiting_for_tx",
    "waiting_for_tx_confirm",
    "payout_provider",
    "working",
    "waiting_for_order",
]


def confirmed_balance(devnet: DevnetProcess, address: str) -> int:
    return int(devnet.command("getBalances", addresses=[address], threshold=100)["balances"][0])


def test_order_paid_on_the_devnet_runs_the_whole_flow(
    devnet: DevnetProcess,
    robot: ServiceProcess,
    wind: ServiceProcess,
    sockets: Any,
    economy: Economy,
) -> None:
    customer = sockets(robot.url)
    provider = sockets(wind.url)
    customer.wait(lambda: customer.events[:1] != [], what="welcome")
    assert customer.events[0] == ("welcome", {"name": "robot 1", "status": "waiting_for_order"})
    provider.wait(lambda: provider.events[:1] != [], what="wind welcome")
    assert provider.events[0][0] == "welcome" and provider.events[0][1]["name"] == "wind"

    # bad input: an error with a reason, nothing stored, the socket still works
    assert "error" in customer.client.call("order", "one robot please", timeout=10)
    customer.wait(lambda: any(e == "error" for e, _ in customer.events), what="error")
    error = next(d for e, d in customer.events if e == "error")
    assert "JSON object" in error["reason"]
    assert httpx.get(robot.url + "/orders").json() == []

    reply = customer.client.call("order", {"product": "headphones"}, timeout=30)
    order_id, address = reply["order_id"], reply["address"]
    assert reply["price"] == 100 and len(address) == 81
    customer.wait(lambda: "waiting_for_tx" in customer.statuses(order_id), what="waiting_for_tx")

    devnet.faucet(address, 100)
    customer.wait(
        lambda: customer.statuses(order_id)[-1:] == ["waiting_for_order"], what="the whole flow"
    )
    assert customer.statuses(order_id) == FLOW

    # only robots holding MACHINE_TOKEN may place energy orders
    forged = {"order_id": "forged1", "robot": "mallory", "amount": 10}
    assert httpx.post(wind.url + "/energy-orders", json=forged).status_code == 401
    assert httpx.get(f"{wind.url}/energy-orders/forged1").status_code == 404

    # the provider was told, paid its share with a real transfer, and delivered
    energy = httpx.get(f"{wind.url}/energy-orders/{order_id}").json()
    assert energy["price"] == 10 and energy["customer"] == "robot 1"
    provider.wait(lambda: confirmed_balance(devnet, energy["address"]) == 10, what="payout")
    provider.wait(
        lambda: provider.statuses(order_id)[-1:] == ["waiting_for_order"], what="wind done"
    )
    assert provider.statuses(order_id) == [
        "waiting_for_tx",
        "waiting_for_tx_confirm",
        "working",
        "waiting_for_order",
    ]
    provider.wait(
        lambda: any(e == "balance" and d["balance"] >= 10 for e, d in provider.events),
        what="wind balance event",
    )
    # the robot's confirmed balance is the price minus the payout, remainder included
    customer.wait(
        lambda: any(e == "balance" and d["balance"] == 90 for e, d in customer.events),
        what="robot balance 90",
    )
    order = httpx.get(f"{robot.url}/orders/{order_id}").json()
    assert order["state"] == "done" and order["payout_value"] == 10
    assert httpx.get(robot.url + "/").json() == {"name": "robot 1", "status": "waiting_for_order"}
    # every token accounted for: books == wallet for robot and wind, the supply whole
    audit = economy.check()
    assert (audit.row("robot 1").books, audit.row("wind").books) == (90, 10)


def test_robot_killed_after_payment_completes_the_order_after_restart(
    devnet: DevnetProcess,
    robot: ServiceProcess,
    wind: ServiceProcess,
    sockets: Any,
    economy: Economy,
) -> None:
    customer = sockets(robot.url)
    customer.wait(lambda: customer.events[:1] != [], what="welcome")
    reply = customer.client.call("order", {}, timeout=30)
    order_id = reply["order_id"]
    customer.wait(lambda: "waiting_for_tx" in customer.statuses(order_id), what="waiting_for_tx")
    devnet.faucet(reply["address"], 100)
    customer.wait(
        lambda: "waiting_for_tx_confirm" in customer.statuses(order_id), what="payment seen"
    )
    robot.kill()
    customer.close()
    # the order was paid but not finished when the robot died
    store = OrderStore.from_url(robot.env["DATABASE_URL"])
    assert store.get(order_id).state not in TERMINAL_STATES  # type: ignore[union-attr]
    store.close()

    robot.start()
    again = sockets(robot.url)
    again.wait(
        lambda: httpx.get(f"{robot.url}/orders/{order_id}").json()["state"] == "done",
        what="resumed order done",
    )
    energy = httpx.get(f"{wind.url}/energy-orders/{order_id}").json()
    again.wait(lambda: confirmed_balance(devnet, energy["address"]) == 10, what="payout")
    # paid exactly once: the provider's address holds one share, not two
    assert confirmed_balance(devnet, energy["address"]) == 10
    assert httpx.get(robot.url + "/").json()["status"] == "waiting_for_order"
    economy.check()
