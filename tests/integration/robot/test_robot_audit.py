"""The economy audit on real processes: devnet, wind and a robot, real payments.

``python -m services.audit`` passes after an order is paid and its provider paid; it fails
(exit 1, the problem named) when tokens sit on an address nobody named, and when a
service's books no longer match its wallet.
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import httpx
import pytest

from shared.machine.store import OrderStore
from tests.integration.robot.machines import ServiceProcess, random_seed
from tests.support.audit import Economy
from tests.support.devnet import DevnetProcess
from tests.support.postgres import SQLITE_ONLY

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300), SQLITE_ONLY]


def run_audit(devnet: DevnetProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.audit", "--devnet", devnet.api_url, *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def order_done(robot: ServiceProcess, order_id: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while httpx.get(f"{robot.url}/orders/{order_id}", timeout=10).json()["state"] != "done":
        assert time.monotonic() < deadline, "the order did not finish"
        time.sleep(0.25)


def test_the_audit_passes_after_real_payments_and_fails_on_unattributed_tokens(
    devnet: DevnetProcess,
    robot: ServiceProcess,
    wind: ServiceProcess,
    sockets: Any,
    economy: Economy,
) -> None:
    customer = sockets(robot.url)
    reply = customer.client.call("order", {"product": "audit"}, timeout=30)
    devnet.faucet(reply["address"], 100)
    order_done(robot, reply["order_id"])
    audit = economy.check()
    robot_books = economy.report(robot.url)
    assert (robot_books.credited, robot_books.sent, robot_books.books) == (100, 10, 90)
    assert robot_books.wallet == 90 and robot_books.stranded == 0
    assert robot_books.detail == {"orders_received": 100}
    wind_books = economy.report(wind.url)
    assert wind_books.books == wind_books.wallet >= 10

    # The command says the same, first line PASSED, exit 0.
    services = [f"--service={url}" for url in economy.services]
    retired = [f"--external={name}={a}" for name, addrs in economy.outside.items() for a in addrs]
    passed = run_audit(devnet, *services, *retired, "--wait=60")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert passed.stdout.splitlines()[0] == "economy audit PASSED"
    assert "robot 1" in passed.stdout and "wind" in passed.stdout
    assert audit.attributed == audit.supply

    # Tokens paid to an address of nobody the audit knows: unattributed, exit 1.
    stranger = httpx.post(
        devnet.api_url + "/faucet",
        json={"address": _address_of(random_seed()), "value": 77},
        timeout=60,
    ).json()
    devnet.wait_confirmed([stranger["tail"]])
    failed = run_audit(devnet, *services, *retired)
    assert failed.returncode == 1, failed.stdout
    first = failed.stdout.splitlines()[0]
    assert first.startswith("economy audit FAILED")
    assert "unattributed" in failed.stdout
    assert "77 tokens on 1 addresses belong to no wallet" in failed.stdout
    # Named as an outside wallet, the same tokens are accounted for.
    named = run_audit(devnet, *services, *retired, f"--external=stranger={stranger['address']}")
    assert named.returncode == 0, named.stdout
    economy.external("stranger", [stranger["address"]])
    economy.check()


def test_books_that_no_longer_match_the_wallet_fail_the_audit(
    devnet: DevnetProcess,
    robot: ServiceProcess,
    sockets: Any,
    economy: Economy,
) -> None:
    customer = sockets(robot.url)
    reply = customer.client.call("order", {"product": "audit"}, timeout=30)
    devnet.faucet(reply["address"], 100)
    order_done(robot, reply["order_id"])
    economy.check()
    # The robot's records now say the order's address took 130: its books claim 30 it
    # never got.
    store = OrderStore.from_url(robot.env["DATABASE_URL"])
    try:
        store.update(reply["order_id"], received=130)
    finally:
        store.close()
    report = economy.report(robot.url)
    assert (report.books, report.wallet, report.difference) == (120, 90, -30)
    assert not report.balanced
    services = [f"--service={url}" for url in economy.services]
    retired = [f"--external={name}={a}" for name, addrs in economy.outside.items() for a in addrs]
    failed = run_audit(devnet, *services, *retired)
    assert failed.returncode == 1
    assert "robot 1: books 120 but wallet 90 (difference -30)" in failed.stdout
    with pytest.raises(AssertionError, match="difference -30"):
        economy.check(timeout=2)
    # Put right, it passes again (and the robot can be retired cleanly).
    store = OrderStore.from_url(robot.env["DATABASE_URL"])
    try:
        store.update(reply["order_id"], received=100)
    finally:
        store.close()
    economy.check()


def test_an_overpaid_order_keeps_its_excess_as_a_visible_credit_in_the_books(
    devnet: DevnetProcess, robot: ServiceProcess, sockets: Any, economy: Economy
) -> None:
    """Issue 20, "overpayment is kept silently": an order of 100 paid with 600 keeps the 500
    as the order's visible credit (docs/robot.md, "Paying more or less than asked"), and
    the robot's books count it, so its books equal its wallet and the economy balances."""
    customer = sockets(robot.url)
    reply = customer.client.call("order", {"product": "audit"}, timeout=30)
    devnet.faucet(reply["address"], 600)
    order_done(robot, reply["order_id"])
    order = httpx.get(f"{robot.url}/orders/{reply['order_id']}", timeout=10).json()
    assert (order["received"], order["credit"]) == (600, 500)
    audit = economy.check()
    assert audit.row("robot 1").difference == 0
    assert audit.passed


def _address_of(seed: str) -> str:
    from shared.iota.signing import address_of

    return address_of(seed, 0, 2)
