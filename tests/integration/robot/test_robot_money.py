"""Money on the devnet (issue 20), robot + wind + devnet as processes and PyOTA as the
paying client: a second payment to a paid order's address is reported on the order, never
counted (the robot's wallet equals what its orders received minus its payouts); paying
more or less than the price follows docs/robot.md ("Paying more or less than asked")."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.iota.wallet import Wallet
from tests.integration.robot.machines import ServiceProcess, machine_env
from tests.support.devnet import DevnetProcess
from tests.support.postgres import SQLITE_ONLY, Databases
from tests.support.pyota_payer import PyotaPayer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600), SQLITE_ONLY]


def wait_for(what: str, probe: Any, timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def order_of(robot: ServiceProcess, order_id: str) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{robot.url}/orders/{order_id}", timeout=10).json()
    return body


def place_order(sockets: Any, robot: ServiceProcess) -> tuple[str, str]:
    customer = sockets(robot.url)
    customer.wait(lambda: customer.events[:1] != [], what="welcome")
    reply = customer.client.call("order", {"product": "gear"}, timeout=60)
    return reply["order_id"], reply["address"]


@pytest.fixture
def robot_factory(
    devnet: DevnetProcess,
    wind: ServiceProcess,
    tmp_path: Path,
    machine_token: str,
    databases: Databases,
) -> Iterator[Any]:
    started: list[ServiceProcess] = []

    def start(**extra: Any) -> tuple[ServiceProcess, Wallet]:
        env = machine_env(
            devnet,
            "robot 1",
            tmp_path / "robot",
            provider_url=wind.url,
            price=100,
            work_seconds=0.2,
            machine_token=machine_token,
            database_url=databases.url(f"robot-{uuid.uuid4().hex[:8]}"),
            **extra,
        )
        process = ServiceProcess("robot", env, tmp_path / "robot")
        started.append(process)
        process.start()
        wallet = Wallet(env["SEED"], devnet.api_url, env["DATABASE_URL"], min_weight_magnitude=9)
        wallets.append(wallet)
        return process, wallet

    wallets: list[Wallet] = []
    yield start
    for wallet in wallets:
        wallet.close()
    for process in started:
        process.stop()


def assert_wallet_equals_orders(robot: ServiceProcess, wallet: Wallet, funded: int = 0) -> None:
    """The robot holds what its orders received (late money excluded) minus its payouts."""

    def books() -> int:
        orders = httpx.get(f"{robot.url}/orders", timeout=10).json()
        return funded + sum(o["received"] - (o["payout_value"] or 0) for o in orders)

    wait_for(
        "the robot's wallet to equal its orders",
        lambda: wallet.balance() == books() == wallet.spendable_balance() or None,
        90,
    )


def test_second_payment_to_a_paid_order_address_is_reported_not_counted(
    devnet: DevnetProcess, robot_factory: Any, sockets: Any
) -> None:
    # No other money: the payout needs the order's, so its address is swept at once.
    robot, wallet = robot_factory()
    payer = PyotaPayer(devnet, 1000)
    order_id, address = place_order(sockets, robot)
    payer.pay(address, 100)
    order = wait_for(
        "the order done",
        lambda: (o := order_of(robot, order_id))["state"] == "done" and o,
    )
    assert (order["received"], order["credit"], order["swept"]) == (100, 0, True)

    payer.pay(address, 50)  # to the paid order's address, after the robot spent from it
    order = wait_for(
        "the late payment reported", lambda: (o := order_of(robot, order_id))["late"] and o
    )
    assert (order["late"], order["received"], order["credit"]) == (50, 100, 0)
    assert "event=payment_late" in robot.log_path.read_text()
    assert_wallet_equals_orders(robot, wallet)
    assert wallet.balance() == 90


def test_overpay_and_underpay_follow_the_money_rule(
    devnet: DevnetProcess, robot_factory: Any, sockets: Any
) -> None:
    robot, wallet = robot_factory(payment_address_hold_seconds=15, order_timeout=40)
    # money of its own: the payout never needs an order's held money
    funding = devnet.faucet(wallet.deposit_address(), 200)
    devnet.wait_confirmed([funding["tail"]])
    payer = PyotaPayer(devnet, 2000)

    # more than asked: 600 for 100, then 50 more while the address is held
    order_id, address = place_order(sockets, robot)
    payer.pay(address, 600)
    order = wait_for(
        "the overpaid order done",
        lambda: (o := order_of(robot, order_id))["state"] == "done" and o,
    )
    assert (order["received"], order["credit"], order["swept"]) == (600, 500, False)
    payer.pay(address, 50)
    order = wait_for(
        "the held address swept", lambda: (o := order_of(robot, order_id))["swept"] and o
    )
    assert (order["received"], order["credit"], order["late"]) == (650, 550, 0)

    # less than asked: the order waits with the partial sum visible, then expires; the
    # partial sum is the payer's credit on the order
    order_id, address = place_order(sockets, robot)
    payer.pay(address, 30)
    order = wait_for(
        "the partial sum visible", lambda: (o := order_of(robot, order_id))["received"] and o
    )
    assert order["received"] == 30 and order["state"] in (
        "waiting_for_tx",
        "waiting_for_tx_confirm",
    )
    order = wait_for(
        "the underpaid order expired and swept",
        lambda: (o := order_of(robot, order_id))["swept"] and o,
        120,
    )
    assert (order["state"], order["received"], order["credit"]) == ("expired", 30, 30)
    assert order["payout_value"] is None
    assert_wallet_equals_orders(robot, wallet, funded=200)
