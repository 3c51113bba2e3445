"""Checkout/checkin through the real controller, real Mosquitto and real firmware processes."""

from __future__ import annotations

import os
import signal
import time

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from shared.mqtt.codec import decode
from tests.integration.lock.conftest import (
    PREFIX,
    USERS,
    Controller,
    Observer,
    Processes,
    state_is,
)
from tests.support.mosquitto import MosquittoProcess

pytestmark = pytest.mark.integration

A = f"{PREFIX}/lock-a"  # device lock-a's prefix (the default {root}/{device id})
AD = f"{A}/device/lock-a"  # its device topics


def _setup(
    processes: Processes, observer: Observer, **controller_env: str
) -> tuple[Controller, dict[str, int]]:
    processes.device("lock-a", locks=2)
    observer.wait_latest(f"{AD}/online", lambda p: p == b"1")
    ctl = processes.controller(None, 120, **controller_env)
    laser = ctl.admin("POST", "/circles", json={"name": "laser", "description": "laser cutter"})
    tool = ctl.admin(
        "POST",
        "/tools",
        json={
            "name": "lasercutter",
            "device_id": "lock-a",
            "lock_index": 1,
            "circle_id": laser["id"],
        },
    )
    return ctl, {"circle": laser["id"], "tool": tool["id"]}


def test_checkout_unlocks_checkin_locks_and_takeover(
    processes: Processes, observer: Observer, database_url: str
) -> None:
    ctl, ids = _setup(processes, observer, DATABASE_URL=database_url)
    alice = ctl.member("alice", [ids["circle"]])
    bob = ctl.member("bob", [ids["circle"]])
    # Boots locked, and the controller shows it live from the retained state.
    state = ctl.wait_tool(ids["tool"], lambda t: t["lock_state"] == "locked")
    assert state["device_online"] is True and state["holder"] is None

    reply = ctl.as_user(alice, "POST", f"/tools/{ids['tool']}/checkout")
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["state"] == "unlocked" and body["tool"]["holder"] == "alice"
    # The reply carries the request id the device echoed on the wire.
    observer.wait_for(f"{A}/machine-access/1/locked", state_is("unlocked", body["request"]))
    assert ctl.tool_state(ids["tool"])["lock_state"] == "unlocked"

    # Bob takes over: alice is checked in, the lock stays open for bob.
    reply = ctl.as_user(bob, "POST", f"/tools/{ids['tool']}/checkout")
    assert reply.status_code == 200, reply.text
    assert reply.json()["took_over_from"] == "alice"
    assert ctl.tool_state(ids["tool"])["holder"] == "bob"

    # Alice no longer holds it and may not check it in.
    assert ctl.as_user(alice, "POST", f"/tools/{ids['tool']}/checkin").status_code == 403
    reply = ctl.as_user(bob, "POST", f"/tools/{ids['tool']}/checkin")
    assert reply.status_code == 200, reply.text
    assert reply.json()["state"] == "locked"
    observer.wait_for(f"{A}/machine-access/1/locked", state_is("locked", reply.json()["request"]))
    tool = ctl.tool_state(ids["tool"])
    assert tool["holder"] is None and tool["lock_state"] == "locked"

    kinds = [
        (e["kind"], e["account"])
        for e in ctl.admin("GET", "/events", params={"tool_id": ids["tool"]})
    ]
    assert kinds[:4] == [
        ("checkin", "bob"),
        ("checkout", "bob"),
        ("checkin", "alice"),
        ("checkout", "alice"),
    ]


def test_outsider_and_lapsed_member_are_refused_and_lock_stays_locked(
    processes: Processes, observer: Observer
) -> None:
    ctl, ids = _setup(processes, observer)
    outsider = ctl.member("mallory", [])
    lapsed = ctl.member("lapsed", [ids["circle"]], membership=False)
    ctl.wait_tool(ids["tool"], lambda t: t["lock_state"] == "locked")
    observer.drain(0.2)

    reply = ctl.as_user(outsider, "POST", f"/tools/{ids['tool']}/checkout")
    assert reply.status_code == 403
    assert "circle 'laser'" in reply.json()["detail"]
    reply = ctl.as_user(lapsed, "POST", f"/tools/{ids['tool']}/checkout")
    assert reply.status_code == 403
    assert reply.json()["detail"] == "no active membership"
    # No command went out and the lock is still locked.
    assert not [m for m in observer.drain(0.5) if m[0].endswith("/command")]
    assert ctl.tool_state(ids["tool"])["lock_state"] == "locked"
    # Unauthenticated calls are refused too.
    assert ctl.http.post(f"/tools/{ids['tool']}/checkout").status_code == 401
    assert (
        ctl.http.post(f"/tools/{ids['tool']}/checkout", auth=("admin", "wrong")).status_code == 401
    )
    kinds = [e["kind"] for e in ctl.admin("GET", "/events")]
    assert kinds.count("checkout_refused") == 2


def test_refresh_republishes_every_lock(processes: Processes, observer: Observer) -> None:
    ctl, ids = _setup(processes, observer)
    ctl.wait_tool(ids["tool"], lambda t: t["lock_state"] == "locked")
    observer.drain(0.2)
    reply = ctl.admin("POST", f"/tools/{ids['tool']}/refresh")
    assert reply["device_id"] == "lock-a"
    got = {t for t, _, _ in observer.drain(0.5)}
    assert {f"{A}/machine-access/0/locked", f"{A}/machine-access/1/locked"} <= got


def test_device_kill_publishes_last_will_and_controller_shows_offline(
    processes: Processes, observer: Observer
) -> None:
    ctl, ids = _setup(processes, observer)
    alice = ctl.member("alice", [ids["circle"]])
    ctl.wait_tool(ids["tool"], lambda t: t["device_online"] is True)
    device = processes.procs[0]
    os.kill(device.pid, signal.SIGKILL)
    device.wait(5)
    # Mosquitto notices the dead socket (no DISCONNECT) and publishes the will.
    observer.wait_for(f"{AD}/online", lambda p: p == b"0", timeout=10)
    ctl.wait_tool(ids["tool"], lambda t: t["device_online"] is False)
    reply = ctl.as_user(alice, "POST", f"/tools/{ids['tool']}/checkout")
    assert reply.status_code == 503 and "offline" in reply.json()["detail"]
    assert ctl.tool_state(ids["tool"])["holder"] is None

    # Restarted, the device boots locked and comes back online.
    processes.device("lock-a", locks=2)
    ctl.wait_tool(ids["tool"], lambda t: t["device_online"] is True and t["lock_state"] == "locked")


def test_broker_restart_both_reconnect_and_state_is_right(
    broker: MosquittoProcess, processes: Processes, observer: Observer
) -> None:
    ctl, ids = _setup(processes, observer)
    alice = ctl.member("alice", [ids["circle"]])
    assert ctl.as_user(alice, "POST", f"/tools/{ids['tool']}/checkout").status_code == 200
    observer.close()
    broker.kill()
    broker.start()  # same port, no persistence: every retained message is gone
    fresh = Observer(broker)
    try:
        # The device republishes its state on reconnect; the controller picks it up again.
        fresh.wait_for(f"{A}/machine-access/1/locked", state_is("unlocked"), timeout=15)
        fresh.wait_for(f"{AD}/online", lambda p: p == b"1", timeout=15)
        ctl.wait_tool(
            ids["tool"],
            lambda t: t["device_online"] is True and t["lock_state"] == "unlocked",
            timeout=15,
        )
        assert ctl.http.get("/health").json()["broker_connected"] is True
        assert ctl.tool_state(ids["tool"])["holder"] == "alice"
        reply = ctl.as_user(alice, "POST", f"/tools/{ids['tool']}/checkin")
        assert reply.status_code == 200, reply.text
        fresh.wait_for(f"{A}/machine-access/1/locked", state_is("locked", reply.json()["request"]))
    finally:
        fresh.close()


def test_unknown_device_times_out_and_never_claims_an_unlock(processes: Processes) -> None:
    ctl = processes.controller(COMMAND_TIMEOUT="0.5")
    tool = ctl.admin(
        "POST", "/tools", json={"name": "ghost-saw", "device_id": "ghost", "lock_index": 0}
    )
    alice = ctl.member("alice", [])
    reply = ctl.as_user(alice, "POST", f"/tools/{tool['id']}/checkout")
    assert reply.status_code == 504
    assert "did not confirm unlock" in reply.json()["detail"]
    assert ctl.tool_state(tool["id"])["holder"] is None
    assert ctl.admin("GET", "/events")[0]["kind"] == "unlock_failed"
    # The controller is still serving.
    assert ctl.http.get("/health").status_code == 200


def test_controller_state_survives_sigkill(
    processes: Processes, observer: Observer, database_url: str
) -> None:
    ctl, ids = _setup(processes, observer, DATABASE_URL=database_url)
    alice = ctl.member("alice", [ids["circle"]])
    assert ctl.as_user(alice, "POST", f"/tools/{ids['tool']}/checkout").status_code == 200
    os.kill(ctl.proc.pid, signal.SIGKILL)
    ctl.proc.wait(5)
    again = processes.controller(data_dir=processes.tmp / "lock-data", DATABASE_URL=database_url)
    tool = again.wait_tool(ids["tool"], lambda t: t["lock_state"] == "unlocked")
    assert tool["holder"] == "alice"
    assert next(e["kind"] for e in again.admin("GET", "/events")) == "checkout"
    # The old token still works: tokens are stored, not kept in memory.
    assert again.as_user(alice, "POST", f"/tools/{ids['tool']}/checkin").status_code == 200


def _raw_client(
    broker: MosquittoProcess, user: str | None, password: str | None
) -> tuple[paho.Client, list[object]]:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"raw-{time.time_ns()}")
    result: list[object] = []
    client.on_connect = lambda c, u, f, rc, p: result.append(rc)
    if user is not None:
        client.username_pw_set(user, password)
    client.connect(broker.host, broker.port)
    client.loop_start()
    deadline = time.monotonic() + 5
    while not result and time.monotonic() < deadline:
        time.sleep(0.02)
    return client, result


def test_broker_refuses_anonymous_and_foreign_publishes(
    broker: MosquittoProcess, processes: Processes, observer: Observer
) -> None:
    processes.device("lock-a", locks=1)
    processes.device("lock-b", locks=1)
    observer.wait_latest(f"{AD}/online", lambda p: p == b"1")
    observer.wait_latest(f"{PREFIX}/lock-b/device/lock-b/online", lambda p: p == b"1")
    observer.drain(0.2)

    for user, password in ((None, None), ("lock-controller", "wrong")):
        client, result = _raw_client(broker, user, password)
        client.publish(f"{A}/machine-access/0/command", "command=unlock\nrequest=evil", qos=1)
        client.loop_stop()
        assert result and result[0].is_failure, result  # type: ignore[attr-defined]

    # Device b may not command device a, nor fake a's state; mosquitto drops both silently.
    client, result = _raw_client(broker, "lock-b", USERS["lock-b"])
    assert not result[0].is_failure  # type: ignore[attr-defined]
    client.publish(f"{A}/machine-access/0/command", "command=unlock\nrequest=evil", qos=1)
    client.publish(f"{A}/machine-access/0/locked", "state=unlocked\nrequest=evil", qos=1)
    client.publish(f"{AD}/online", "0", qos=1, retain=True)
    time.sleep(0.3)
    client.disconnect()
    client.loop_stop()
    assert [m for m in observer.drain(0.5) if m[0].startswith(A)] == []

    # A device may not command even its own locks; only the controller may.
    client, _ = _raw_client(broker, "lock-a", "device-a-pw")
    client.publish(f"{A}/machine-access/0/command", "command=unlock\nrequest=self", qos=1)
    time.sleep(0.3)
    client.disconnect()
    client.loop_stop()
    assert [m for m in observer.drain(0.5) if m[0].startswith(A)] == []

    # Ask for a refresh as the controller: lock 0 of device a is still locked.
    client, _ = _raw_client(broker, "lock-controller", USERS["lock-controller"])
    client.publish(f"{A}/machine-access/command", "command=refresh", qos=1)
    payload = observer.wait_for(f"{A}/machine-access/0/locked")
    client.disconnect()
    client.loop_stop()
    assert decode(payload) == {"state": "locked"}


def test_garbage_payloads_get_status_and_change_nothing(
    broker: MosquittoProcess, processes: Processes, observer: Observer
) -> None:
    processes.device("lock-a", locks=1)
    observer.wait_latest(f"{AD}/online", lambda p: p == b"1")
    client, _ = _raw_client(broker, "lock-controller", USERS["lock-controller"])
    cases = [
        (f"{A}/machine-access/0/command", b"\xff\xfe garbage", "Malformed payload"),
        (f"{A}/machine-access/0/command", b"no equals sign", "Malformed payload"),
        (f"{A}/machine-access/0/command", b"command=open\nrequest=r1", "Unknown command: open"),
        (f"{A}/machine-access/0/command", b"command=unlock\ncolour=red", "Unknown key: colour"),
        (f"{A}/machine-access/0/command", b"command=unlock\nrequest=" + b"x" * 300, "too long"),
        (f"{A}/machine-access/7/command", b"command=unlock", "Unknown lock id: 7"),
        (f"{A}/machine-access/command", b"command=explode", "Unknown command: explode"),
    ]
    for topic, payload, message in cases:
        client.publish(topic, payload, qos=1)
        status_topic = (
            f"{A}/machine-access/0/status" if "/0/" in topic else f"{A}/machine-access/status"
        )
        got = decode(observer.wait_for(status_topic))
        assert message in got["message"] and got["level"] == "warning", (payload, got)
    client.publish(f"{A}/machine-access/command", "command=refresh", qos=1)
    assert decode(observer.wait_for(f"{A}/machine-access/0/locked")) == {"state": "locked"}
    # Still alive and obeying.
    client.publish(f"{A}/machine-access/0/command", "command=unlock\nrequest=ok-1", qos=1)
    observer.wait_for(f"{A}/machine-access/0/locked", state_is("unlocked", "ok-1"))
    client.disconnect()
    client.loop_stop()
    assert processes.procs[0].poll() is None


def test_auto_relock_and_rename(
    broker: MosquittoProcess, processes: Processes, observer: Observer
) -> None:
    processes.device("lock-a", locks=1, LOCK_AUTO_RELOCK_SECONDS="0.3", DEVICE_NAME="laser")
    observer.wait_for(f"{AD}/name", lambda p: p == b"laser", timeout=10)
    observer.wait_latest(f"{AD}/online", lambda p: p == b"1")
    client, _ = _raw_client(broker, "lock-controller", USERS["lock-controller"])
    client.publish(f"{A}/machine-access/0/command", "command=unlock\nrequest=r-7", qos=1)
    observer.wait_for(f"{A}/machine-access/0/locked", state_is("unlocked", "r-7"))
    started = time.monotonic()
    observer.wait_for(f"{A}/machine-access/0/locked", state_is("locked"))
    assert 0.2 < time.monotonic() - started < 2
    # A valid rename is taken; an invalid one is refused and the real name republished.
    client.publish(f"{AD}/name", "cnc-mill", qos=1, retain=True)
    time.sleep(0.2)
    client.publish(f"{AD}/name", "bad name/with slash", qos=1, retain=True)
    assert "Invalid name" in decode(observer.wait_for(f"{A}/machine-access/status"))["message"]
    observer.wait_for(f"{AD}/name", lambda p: p == b"cnc-mill")
    client.disconnect()
    client.loop_stop()


def test_unconfirmed_checkout_is_taken_back_and_the_holder_kept(
    processes: Processes, observer: Observer, database_url: str
) -> None:
    # The checkout is written while the device unlocks (checkouts.py): one the device never
    # confirms is taken back whole, and a holder it would have taken over from keeps the tool.
    ctl, ids = _setup(processes, observer, DATABASE_URL=database_url, COMMAND_TIMEOUT="1")
    alice = ctl.member("alice", [ids["circle"]])
    bob = ctl.member("bob", [ids["circle"]])
    first = ctl.as_user(alice, "POST", f"/tools/{ids['tool']}/checkout")
    assert first.status_code == 200, first.text
    device = processes.procs[0]
    device.send_signal(signal.SIGSTOP)  # connected (no last will yet) but silent
    try:
        reply = ctl.as_user(bob, "POST", f"/tools/{ids['tool']}/checkout")
    finally:
        device.send_signal(signal.SIGCONT)
    assert reply.status_code == 504, reply.text
    tool = ctl.tool_state(ids["tool"])
    assert tool["holder"] == "alice"
    kinds = [
        (e["kind"], e["account"], e["request_id"])
        for e in ctl.admin("GET", "/events", params={"tool_id": ids["tool"]})
    ]
    assert kinds[:2] == [
        ("unlock_failed", "bob", None),
        ("checkout", "alice", first.json()["request"]),
    ]
    # Alice still holds it: she may check it in.
    again = ctl.as_user(alice, "POST", f"/tools/{ids['tool']}/checkin")
    assert again.status_code == 200, again.text
