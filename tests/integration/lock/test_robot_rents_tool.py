"""A robot rents the laser cutter for each product (issue 23): an order pays for machine time.

Real processes: Mosquitto (password file + ACL), the firmware device, the lock controller
with its channel node, the devnet, wind (the robot's energy provider) and the robot with
``RENT_TOOL_URL``/``RENT_TOOL_ID`` (shared/machine/rental.py). A customer orders a product
over Socket.IO and pays it from the faucet; during the work the robot buys the tool's
minutes over its channel to the lock: the lock unlocks over MQTT (``mosquitto_sub`` reads
``state=unlocked``), the robot pays a minute more while the work lasts, the lock locks after
the grace period, and the robot's books still equal its wallet.
"""

from __future__ import annotations

import math
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.iota.wallet import Wallet
from shared.mqtt.codec import decode
from tests.integration.lock.conftest import Processes
from tests.integration.lock.test_pay_per_use import GRACE, LOCKED, MINUTE, PRICE, _setup, _until
from tests.integration.lock.test_seed_topics import Sub
from tests.integration.robot.conftest import SocketWatcher
from tests.integration.robot.machines import ServiceProcess, machine_env
from tests.support.audit import Economy
from tests.support.devnet import DevnetProcess
from tests.support.mosquitto import MosquittoProcess

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]

WORK_SECONDS = 12.0  # about two and a half minutes of the lock's accelerated clock
MARGIN = 1.5


def test_a_robot_rents_the_tool_for_its_work_and_pays_by_the_minute(
    broker: MosquittoProcess,
    processes: Processes,
    devnet: DevnetProcess,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    controller, _ = _setup(processes, devnet, tmp_path)
    token = secrets.token_hex(16)
    wind_env = machine_env(devnet, "wind", tmp_path / "wind", work_seconds=0.2, machine_token=token)
    wind = ServiceProcess("wind", wind_env, tmp_path / "wind").start(timeout=600)
    request.addfinalizer(wind.stop)
    robot_env = machine_env(
        devnet,
        "robot 1",
        tmp_path / "robot",
        provider_url=wind.url,
        price=100,
        work_seconds=WORK_SECONDS,
        machine_token=token,
        database_url=f"sqlite:///{tmp_path / 'robot.sqlite'}",
        rent_tool_url=controller.url,
        rent_tool_id=1,
        rent_margin_seconds=MARGIN,
        channel_deposit=300,
        channel_timeout=60,
    )
    robot = ServiceProcess("robot", robot_env, tmp_path / "robot").start(timeout=600)
    request.addfinalizer(robot.stop)
    # Money of its own for the channel's deposit: an order's money is held until swept.
    wallet = Wallet(
        robot_env["SEED"],
        devnet.api_url,
        robot_env["DATABASE_URL"],
        min_weight_magnitude=devnet.mwm,
    )
    request.addfinalizer(wallet.close)
    funding = devnet.faucet(wallet.deposit_address(), 1000)
    devnet.wait_confirmed([funding["tail"]], timeout=120)

    sub = Sub(broker, [LOCKED])
    request.addfinalizer(sub.close)
    sub.wait(LOCKED, lambda p: decode(p).get("state") == "locked")

    customer = SocketWatcher(robot.url)
    request.addfinalizer(customer.close)
    customer.wait(lambda: customer.events[:1] != [], what="welcome")
    reply = customer.client.call("order", {"product": "sign"}, timeout=60)
    devnet.faucet(reply["address"], 100)

    def order() -> dict[str, Any]:
        got: dict[str, Any] = httpx.get(f"{robot.url}/orders/{reply['order_id']}").json()
        return got

    _until("the robot unlocks the tool", lambda: "unlocked" in _states(sub), timeout=120)
    done = _until("the order done", lambda: (o := order())["state"] == "done" and o, 300)
    # The work lasted WORK_SECONDS: the first payment bought the minimum (one minute), then
    # one minute each time what was left would not last: ceil(WORK / MINUTE) minutes at
    # most, never fewer than the work needed.
    needed = math.ceil(WORK_SECONDS / MINUTE)
    sessions = controller.admin("GET", "/sessions")
    mine = [s for s in sessions if s["tool_id"] == 1]
    assert len(mine) == 1, sessions
    session = mine[0]
    assert needed - 1 <= session["minutes"] <= needed, session
    assert session["paid"] == session["minutes"] * PRICE
    assert f"tool 1: paid {session['paid']}i" in str(done), done

    # Payments stop with the work: the lock locks within the grace period after the paid
    # time ran out.
    _until(
        "the tool locked again",
        lambda: _states(sub)[-1:] == ["locked"],
        timeout=2 * MINUTE + GRACE + 30,
    )
    session = next(s for s in controller.admin("GET", "/sessions") if s["tool_id"] == 1)
    assert session["state"] != "active", session

    # The robot's books equal its wallet: the deposit into the lock's channel is a send.
    economy = Economy(devnet.api_url)
    economy.add(robot.url)
    report = economy.report(robot.url)
    assert report.difference == 0, report
    channel = httpx.get(f"{robot.url}/channel").json()
    spent = sum(c["amount_spent_by_me"] for c in channel["channels"])
    assert spent == session["paid"], channel


def _states(sub: Sub) -> list[str]:
    """Every lock state ``mosquitto_sub`` printed so far (what arrived is read first)."""
    sub.drain(0.1)
    return [decode(p).get("state", "") for t, _, p in sub.seen if t == LOCKED]
