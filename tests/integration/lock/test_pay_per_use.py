"""Pay-per-use (issue 23): minutes of a tool bought over a payment channel, end to end.

Real processes: Mosquitto (password file + ACL), the firmware device (host runner), the
lock controller with its channel node, the devnet with its channel agent and a payer (a
``services.channels`` node). ``mosquitto_sub`` reads ``$prefix/machine-access/0/locked``.
A minute lasts ``MINUTE`` seconds (``LOCK_MINUTE_SECONDS``), the grace ``GRACE``.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.mqtt.codec import decode
from tests.integration.lock.conftest import PREFIX, Controller, Processes
from tests.integration.lock.test_seed_topics import Sub
from tests.support.channels import ChannelProcess
from tests.support.devnet import DevnetProcess, random_seed
from tests.support.mosquitto import MosquittoProcess, free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(2400)]

MINUTE = 5.0  # seconds in a minute of the accelerated clock
GRACE = 5.0
PRICE = 10  # per minute
DEVICE = f"{PREFIX}/lock-a"
LOCKED = f"{DEVICE}/machine-access/0/locked"


def _controller(
    processes: Processes, devnet: DevnetProcess, data: Path, port: int, minute: float = MINUTE
) -> Controller:
    return processes.controller(
        data_dir=data,
        ready_timeout=600,  # the channel node and the wallet make a slower start under load
        PORT=str(port),
        LOCK_CHANNEL_SEED=(data / "seed").read_text(),
        LOCK_CHANNEL_NODE_URL=devnet.api_url,
        LOCK_CHANNEL_MWM=str(devnet.mwm),
        LOCK_CHANNEL_WATCH_INTERVAL="0.3",
        LOCK_CHANNEL_MIN_TIMEOUT="1",
        LOCK_MINUTE_SECONDS=str(minute),
        LOCK_GRACE_SECONDS=str(GRACE),
    )


def _setup(
    processes: Processes, devnet: DevnetProcess, tmp: Path, minute: float = MINUTE
) -> tuple[Controller, int]:
    data = tmp / "lock-data"
    data.mkdir()
    (data / "seed").write_text(random_seed())
    processes.device("lock-a", locks=2)
    port = free_port()
    controller = _controller(processes, devnet, data, port, minute)
    controller.admin(
        "POST",
        "/tools",
        json={
            "name": "laser",
            "device_id": "lock-a",
            "lock_index": 0,
            "pricing": "paid",
            "price_per_minute": PRICE,
            "min_minutes": 1,
        },
    )
    controller.admin(
        "POST", "/tools", json={"name": "drill", "device_id": "lock-a", "lock_index": 1}
    )
    controller.admin("PUT", "/tools/2/pricing", json={"pricing": "free"})
    return controller, port


def _pay(payer: ChannelProcess, cid: str, amount: int, message: Any) -> httpx.Response:
    return payer.client.post(f"/channels/{cid}/pay", json={"amount": amount, "message": message})


def _paid(payer: ChannelProcess, cid: str, amount: int) -> dict[str, Any]:
    reply = _pay(payer, cid, amount, {"tool_id": 1})
    assert reply.status_code == 200, reply.text
    answer: dict[str, Any] = reply.json()["response"]
    return answer


def _open(payer: ChannelProcess, controller: Controller, amount: int) -> str:
    body = {"peer": f"{controller.url}/channels/peer", "amount": amount, "timeout": 5}
    cid = str(payer.call("POST", "/channels", json=body)["channel_id"])
    payer.wait(cid, lambda s: s["status"] == "open" and s["amount_deposited_by_me"] == amount)
    return cid


def _states(sub: Sub) -> list[str]:
    return [decode(p).get("state", "") for t, _, p in sub.seen if t == LOCKED]


def _retained_state(broker: MosquittoProcess) -> str:
    """The lock's state as ``mosquitto_sub`` reads it now (the retained message)."""
    sub = Sub(broker, [LOCKED])
    try:
        return decode(sub.wait(LOCKED, timeout=10)).get("state", "")
    finally:
        sub.close()


def _until(what: str, check: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"not reached in {timeout}s: {what}")


def test_pay_by_the_minute_unlock_keep_lock_and_settle(
    broker: MosquittoProcess,
    processes: Processes,
    devnet: DevnetProcess,
    payer: ChannelProcess,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    controller, _ = _setup(processes, devnet, tmp_path)
    sub = Sub(broker, [LOCKED])
    request.addfinalizer(sub.close)  # mosquitto_sub must not outlive the test
    sub.wait(LOCKED, lambda p: decode(p).get("state") == "locked")
    cid = _open(payer, controller, 500)

    # Refusals: the answer says why, and the lock does not move.
    too_small = _pay(payer, cid, PRICE - 1, {"tool_id": 1})
    assert too_small.status_code == 422, too_small.text
    assert "less than the minimum of 1 minute" in too_small.text
    free = _pay(payer, cid, PRICE, {"tool_id": 2})
    assert free.status_code == 422 and "is free" in free.text, free.text
    unknown = _pay(payer, cid, PRICE, {"tool_id": 99})
    assert unknown.status_code == 422 and "no tool 99" in unknown.text, unknown.text
    stranger = httpx.post(
        f"{controller.url}/channels/peer/pay",
        json={"package": {"body": {"channel": "ab" * 32}, "sig": "x"}, "message": {"tool_id": 1}},
    )
    assert stranger.status_code == 409 and "unknown channel" in stranger.text, stranger.text
    sub.drain(0.5)
    assert "unlocked" not in _states(sub)
    refused = PRICE - 1 + PRICE + PRICE

    # The first payment unlocks (the device's echo confirmed it before the answer).
    started = time.monotonic()
    first = _paid(payer, cid, PRICE)
    assert first["state"] == "unlocked" and first["request"]
    assert 0 < first["seconds_left"] <= MINUTE
    assert _retained_state(broker) == "unlocked"
    # Keep paying a minute at a time for three minutes: the tool stays unlocked.
    payments = 1
    while time.monotonic() - started < 3 * MINUTE:
        time.sleep(MINUTE * 0.6)
        answer = _paid(payer, cid, PRICE)
        payments += 1
        assert answer["session"] == first["session"]
        assert answer["seconds_left"] > 0, answer
        assert "request" not in answer  # no new unlock: the session goes on
    sub.drain(0.2)
    assert _states(sub).count("locked") == 1, _states(sub)  # only the one before paying
    assert _retained_state(broker) == "unlocked"
    session = controller.http.get(
        "/sessions", headers={"Authorization": f"Bearer {controller.admin_token}"}
    ).json()[0]
    assert session["state"] == "active" and session["paid"] == payments * PRICE
    assert session["minutes"] == payments
    left = session["seconds_left"]

    # Stop paying: locked once the paid time and the grace are over, not before.
    stopped = time.monotonic()
    sub.seen.clear()
    sub.wait(LOCKED, lambda p: decode(p).get("state") == "locked", timeout=left + GRACE + 15)
    waited = time.monotonic() - stopped
    assert waited >= left + GRACE - 1.0, (waited, left)
    assert _retained_state(broker) == "locked"
    ended = _until(
        "the session ended",
        lambda: (s := controller.admin("GET", "/sessions?limit=1")[0])["state"] == "ended" and s,
        timeout=30,
    )
    assert ended["detail"] == "paid time over"
    tool = controller.tool_state(1)
    assert tool["income"] == payments * PRICE and tool["session"] is None
    income = controller.admin("GET", "/income")
    assert income["tools"] == {"laser": payments * PRICE}
    assert income["refused"] == refused
    assert income["channel_received"] == payments * PRICE + refused

    # The payer closes: the controller confirms and the agent pays the owner on the devnet.
    payer.call("POST", f"/channels/{cid}/close")
    payer.wait(cid, lambda s: s["period"] == 2, timeout=120)
    owner = _until(
        "the owner's payout on the devnet",
        lambda: (b := controller.admin("GET", "/income")["wallet_balance"]) and b,
        timeout=120,
    )
    assert owner == payments * PRICE + refused
    _until("the payer's refund", lambda: payer.balance() == 1000 - owner, timeout=120)


def test_controller_and_device_killed_in_a_paid_session(
    broker: MosquittoProcess,
    processes: Processes,
    devnet: DevnetProcess,
    payer: ChannelProcess,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    # Real minutes here: restarts take minutes on a loaded machine; ten are paid at once.
    controller, port = _setup(processes, devnet, tmp_path, minute=60)
    cid = _open(payer, controller, 500)
    first = _paid(payer, cid, PRICE * 10)
    assert first["state"] == "unlocked"
    assert _retained_state(broker) == "unlocked"
    before = controller.admin("GET", "/sessions")[0]

    # SIGKILL the controller: the session is in its database and goes on; the lock stays.
    controller.proc.send_signal(signal.SIGKILL)
    controller.proc.wait(10)
    controller = _controller(processes, devnet, tmp_path / "lock-data", port, minute=60)
    after = controller.admin("GET", "/sessions")[0]
    assert (after["id"], after["state"], after["paid"]) == (before["id"], "active", PRICE * 10)
    assert after["paid_until"] == before["paid_until"]
    assert _retained_state(broker) == "unlocked"
    # The next payment extends the same session: nothing of the first is paid again.
    more = _paid(payer, cid, PRICE)
    assert more["session"] == before["id"] and "request" not in more
    assert controller.admin("GET", "/sessions")[0]["paid"] == PRICE * 11
    assert len(controller.admin("GET", "/payments")) == 2

    # SIGKILL the device: it boots locked; the controller re-reads it and unlocks again.
    device = processes.procs[0]
    device.send_signal(signal.SIGKILL)
    device.wait(10)
    sub = Sub(broker, [LOCKED])
    request.addfinalizer(sub.close)  # mosquitto_sub must not outlive the test
    processes.device("lock-a", locks=2)
    sub.wait(LOCKED, lambda p: decode(p).get("state") == "locked", timeout=180)
    sub.wait(LOCKED, lambda p: decode(p).get("state") == "unlocked", timeout=180)
    assert controller.admin("GET", "/sessions")[0]["state"] == "active"

    # The payer closes the channel: the tool is locked within the grace period.
    sub.drain(0.5)
    sub.seen.clear()
    payer.call("POST", f"/channels/{cid}/close")
    closed = time.monotonic()
    sub.wait(LOCKED, lambda p: decode(p).get("state") == "locked", timeout=GRACE + 120)
    assert time.monotonic() - closed < GRACE + 120
    # The echo is on the wire a moment before the controller writes the session down.
    ended = _until(
        "the session ended",
        lambda: (s := controller.admin("GET", "/sessions")[0])["state"] == "ended" and s,
        timeout=30,
    )
    assert ended["detail"] == "channel closed"
