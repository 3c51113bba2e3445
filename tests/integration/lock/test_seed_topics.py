"""Seed 004's topics exactly, driven and watched with mosquitto's own command-line clients.

Nothing of ours speaks MQTT on the test side: ``mosquitto_pub`` sends (as the controller
would, or as a device trying to cheat) and ``mosquitto_sub`` watches, against a real broker
with the production ACL, real firmware processes and a real lock controller. Each device has
its own prefix: ``{PREFIX}/{device id}`` by default, ``space/laser`` for a device configured
the way the seed's own example is (``bitraf/lasercutter``).
"""

from __future__ import annotations

import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from firmware.lockdevice import FIRMWARE_VERSION
from shared.mqtt.acl import render_acl
from shared.mqtt.codec import decode
from tests.integration.lock.conftest import PREFIX, USERS, Processes
from tests.support.mosquitto import MosquittoProcess

pytestmark = pytest.mark.integration

MOSQUITTO_PUB = shutil.which("mosquitto_pub") or "/usr/bin/mosquitto_pub"
MOSQUITTO_SUB = shutil.which("mosquitto_sub") or "/usr/bin/mosquitto_sub"
if not (Path(MOSQUITTO_PUB).exists() and Path(MOSQUITTO_SUB).exists()):  # pragma: no cover
    pytest.skip("mosquitto-clients is not installed", allow_module_level=True)

A = f"{PREFIX}/lock-a"  # device lock-a's prefix
B = f"{PREFIX}/lock-b"  # device lock-b's prefix
LASER = "space/laser"  # device laser1's prefix, chosen by its operator
SEED_USERS = USERS


@pytest.fixture
def broker() -> Iterator[MosquittoProcess]:
    # The production ACL (laser1 listed with its own prefix) plus a read-everything observer.
    acl = render_acl(PREFIX, devices={"laser1": LASER}) + "\nuser observer\ntopic read #\n"
    with MosquittoProcess(users=SEED_USERS, acl=acl) as process:
        yield process


def _auth(user: str) -> list[str]:
    return ["-u", user, "-P", SEED_USERS[user]]


class Sub:
    """``mosquitto_sub`` printing ``topic retain hex(payload)`` per message, read in a thread."""

    def __init__(self, broker: MosquittoProcess, topics: list[str], user: str = "observer"):
        args = [MOSQUITTO_SUB, "-h", broker.host, "-p", str(broker.port), *_auth(user)]
        args += ["-q", "1", "-F", "%t %r %x", "-i", f"sub-{time.time_ns()}"]
        for topic in topics:
            args += ["-t", topic]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.messages: queue.Queue[tuple[str, bool, bytes]] = queue.Queue()
        self.seen: list[tuple[str, bool, bytes]] = []
        threading.Thread(target=self._read, daemon=True).start()
        time.sleep(0.3)  # let it subscribe before anything is published

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            topic, retain, payload = line.decode().rstrip("\n").split(" ", 2)
            self.messages.put((topic, retain == "1", bytes.fromhex(payload)))

    def wait(
        self, topic: str, check: Callable[[bytes], bool] = lambda _: True, timeout: float = 10
    ) -> bytes:
        """The first message on topic (seen before or arriving) for which check holds."""
        for got, _retain, payload in self.seen:
            if got == topic and check(payload):
                return payload
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                item = self.messages.get(timeout=remaining)
            except queue.Empty:
                break
            self.seen.append(item)
            if item[0] == topic and check(item[2]):
                return item[2]
        raise AssertionError(f"nothing matching on {topic}; saw {self.seen[-20:]}")

    def drain(self, seconds: float = 0.5) -> list[tuple[str, bool, bytes]]:
        got = []
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                got.append(self.messages.get(timeout=remaining))
            except queue.Empty:
                break
        self.seen.extend(got)
        return got

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(5)


@pytest.fixture
def subs() -> Iterator[Callable[..., Sub]]:
    made: list[Sub] = []

    def make(broker: MosquittoProcess, topics: list[str], user: str = "observer") -> Sub:
        sub = Sub(broker, topics, user)
        made.append(sub)
        return sub

    yield make
    for sub in made:
        sub.close()


def pub(
    broker: MosquittoProcess, user: str, topic: str, payload: bytes, retain: bool = False
) -> subprocess.CompletedProcess[bytes]:
    """One ``mosquitto_pub`` over MQTT v5, so the broker says whether it took the message."""
    args = [MOSQUITTO_PUB, "-h", broker.host, "-p", str(broker.port), *_auth(user)]
    args += ["-V", "mqttv5", "-q", "1", "-t", topic, "-s"]
    if retain:
        args.append("-r")
    return subprocess.run(args, input=payload, capture_output=True, timeout=10)


def state_is(state: str, request: str | None = None) -> Callable[[bytes], bool]:
    def check(payload: bytes) -> bool:
        fields = decode(payload)
        return fields.get("state") == state and (
            request is None or fields.get("request") == request
        )

    return check


def test_device_topics_unlock_refresh_and_bad_input(
    broker: MosquittoProcess, processes: Processes, subs: Callable[..., Sub]
) -> None:
    watch = subs(broker, ["#"])
    processes.device("lock-a", locks=2, DEVICE_IP="10.1.2.3", DEVICE_NAME="lasercutter")
    # $prefix/device/$device-id/{online,name,firmware,ip}, retained.
    assert watch.wait(f"{A}/device/lock-a/online", lambda p: p == b"1") == b"1"
    assert watch.wait(f"{A}/device/lock-a/firmware") == FIRMWARE_VERSION.encode()
    assert watch.wait(f"{A}/device/lock-a/ip") == b"10.1.2.3"
    assert watch.wait(f"{A}/device/lock-a/name") == b"lasercutter"
    for lock in (0, 1):
        assert decode(watch.wait(f"{A}/machine-access/{lock}/locked")) == {"state": "locked"}
    # A late subscriber gets the retained state of the seed's topics at once.
    late = subs(broker, [f"{A}/device/lock-a/+", f"{A}/machine-access/+/locked"])
    assert late.wait(f"{A}/device/lock-a/online") == b"1"
    assert late.wait(f"{A}/device/lock-a/ip") == b"10.1.2.3"

    # Unlock exactly as the seed's example: the echo carries the state and the request.
    done = pub(
        broker,
        "lock-controller",
        f"{A}/machine-access/0/command",
        b"request=20400404\ncommand=unlock",
    )
    assert done.returncode == 0, done.stderr
    echo = watch.wait(f"{A}/machine-access/0/locked", state_is("unlocked"))
    assert decode(echo) == {"state": "unlocked", "request": "20400404"}
    pub(broker, "lock-controller", f"{A}/machine-access/0/command", b"request=r2\ncommand=lock")
    watch.wait(f"{A}/machine-access/0/locked", state_is("locked", "r2"))

    # Refresh: every lock state is published again.
    watch.drain(0.2)
    pub(broker, "lock-controller", f"{A}/machine-access/command", b"command=refresh")
    watch.wait(f"{A}/machine-access/0/locked", state_is("locked", "r2"))
    watch.wait(f"{A}/machine-access/1/locked", state_is("locked"))

    # An unknown lock: the seed's own example status message, on $prefix/machine-access/status.
    pub(broker, "lock-controller", f"{A}/machine-access/14/command", b"command=unlock\nrequest=r3")
    status = decode(watch.wait(f"{A}/machine-access/status"))
    assert status["message"] == "Unknown lock id: 14" and status["level"] == "warning"

    # Garbage: a status on the lock's status topic, and nothing changes.
    watch.drain(0.2)
    pub(broker, "lock-controller", f"{A}/machine-access/1/command", b"\xff\xfe\x00 garbage")
    status = decode(watch.wait(f"{A}/machine-access/1/status"))
    assert status["message"].startswith("Malformed payload") and status["level"] == "warning"
    pub(broker, "lock-controller", f"{A}/machine-access/1/command", b"command=explode\nrequest=r4")
    status = decode(watch.wait(f"{A}/machine-access/1/status", lambda p: b"r4" in p))
    assert status == {"message": "Unknown command: explode", "level": "warning", "request": "r4"}
    assert not [t for t, _, _ in watch.drain(0.3) if t.endswith("/locked")]
    # Still alive and obeying.
    pub(broker, "lock-controller", f"{A}/machine-access/1/command", b"command=unlock\nrequest=ok")
    watch.wait(f"{A}/machine-access/1/locked", state_is("unlocked", "ok"))
    assert processes.procs[0].poll() is None


def test_controller_unlocks_on_the_seed_topics(
    broker: MosquittoProcess, processes: Processes, subs: Callable[..., Sub]
) -> None:
    watch = subs(broker, ["#"])
    processes.device("lock-a", locks=2)
    processes.device("laser1", locks=1, MQTT_PREFIX=LASER)
    watch.wait(f"{A}/device/lock-a/online", lambda p: p == b"1")
    watch.wait(f"{LASER}/device/laser1/online", lambda p: p == b"1")
    ctl = processes.controller()
    saw = ctl.admin("POST", "/tools", json={"name": "saw", "device_id": "lock-a", "lock_index": 1})
    assert saw["device_prefix"] == A  # the default: {MQTT_PREFIX}/{device id}
    laser = ctl.admin(
        "POST",
        "/tools",
        json={"name": "laser", "device_id": "laser1", "device_prefix": LASER, "lock_index": 0},
    )
    alice = ctl.member("alice", [])
    for tool, prefix, lock in ((saw, A, 1), (laser, LASER, 0)):
        ctl.wait_tool(
            tool["id"], lambda t: t["device_online"] is True and t["lock_state"] == "locked"
        )
        reply = ctl.as_user(alice, "POST", f"/tools/{tool['id']}/checkout")
        assert reply.status_code == 200, reply.text
        request = reply.json()["request"]
        # The command on $prefix/machine-access/$lock/command, its echo on .../locked.
        command = decode(watch.wait(f"{prefix}/machine-access/{lock}/command"))
        assert command == {"request": request, "command": "unlock"}
        watch.wait(f"{prefix}/machine-access/{lock}/locked", state_is("unlocked", request))
        reply = ctl.as_user(alice, "POST", f"/tools/{tool['id']}/checkin")
        assert reply.status_code == 200, reply.text
        watch.wait(
            f"{prefix}/machine-access/{lock}/locked", state_is("locked", reply.json()["request"])
        )
        # Refresh through the controller: $prefix/machine-access/command.
        watch.drain(0.2)
        assert ctl.admin("POST", f"/tools/{tool['id']}/refresh")["device_prefix"] == prefix
        assert decode(watch.wait(f"{prefix}/machine-access/command")) == {"command": "refresh"}
        watch.wait(f"{prefix}/machine-access/{lock}/locked", state_is("locked"))


def test_two_devices_never_see_each_others_commands(
    broker: MosquittoProcess, processes: Processes, subs: Callable[..., Sub]
) -> None:
    watch = subs(broker, ["#"])
    processes.device("lock-a", locks=1)
    processes.device("lock-b", locks=1)
    watch.wait(f"{A}/device/lock-a/online", lambda p: p == b"1")
    watch.wait(f"{B}/device/lock-b/online", lambda p: p == b"1")
    # What device b may read of all commands: the broker shows it only its own.
    as_b = subs(broker, [f"{PREFIX}/#"], user="lock-b")
    as_b.drain(0.3)
    watch.drain(0.3)

    pub(
        broker, "lock-controller", f"{A}/machine-access/0/command", b"command=unlock\nrequest=for-a"
    )
    watch.wait(f"{A}/machine-access/0/locked", state_is("unlocked", "for-a"))
    assert [t for t, _, _ in watch.drain(0.5) if t.startswith(B)] == []  # b did nothing
    assert as_b.drain(0.3) == []  # and never saw a's command

    pub(
        broker, "lock-controller", f"{B}/machine-access/0/command", b"command=unlock\nrequest=for-b"
    )
    assert decode(as_b.wait(f"{B}/machine-access/0/command")) == {
        "command": "unlock",
        "request": "for-b",
    }
    watch.wait(f"{B}/machine-access/0/locked", state_is("unlocked", "for-b"))
    # a's lock 0 is still the one a unlocked, not touched by b's command.
    late = subs(broker, [f"{A}/machine-access/0/locked"])
    assert decode(late.wait(f"{A}/machine-access/0/locked")) == {
        "state": "unlocked",
        "request": "for-a",
    }


def test_acl_refuses_a_device_writing_under_another_prefix(
    broker: MosquittoProcess, processes: Processes, subs: Callable[..., Sub]
) -> None:
    watch = subs(broker, ["#"])
    processes.device("lock-a", locks=1)
    watch.wait(f"{A}/device/lock-a/online", lambda p: p == b"1")
    watch.drain(0.3)
    forged = [
        (f"{A}/machine-access/0/locked", b"state=unlocked\nrequest=evil"),
        (f"{A}/machine-access/0/command", b"command=unlock\nrequest=evil"),
        (f"{A}/machine-access/status", b"message=forged"),
        (f"{A}/device/lock-a/online", b"0"),
        (f"{A}/device/lock-b/online", b"1"),
        (f"{LASER}/machine-access/0/locked", b"state=unlocked"),
        (f"{PREFIX}/machine-access/0/locked", b"state=unlocked"),
    ]
    for topic, payload in forged:
        done = pub(broker, "lock-b", topic, payload)
        # MQTT v5: the broker answers the publish with "not authorized" and drops it.
        assert b"not authorized" in done.stderr.lower(), (topic, done.stderr)
    # Not even its own commands: only the controller commands devices.
    done = pub(broker, "lock-b", f"{B}/machine-access/0/command", b"command=unlock")
    assert b"not authorized" in done.stderr.lower(), done.stderr
    assert [t for t, _, _ in watch.drain(0.5)] == []
    # Under its own prefix the same device may publish its state.
    done = pub(broker, "lock-b", f"{B}/machine-access/0/locked", b"state=locked")
    assert done.returncode == 0 and b"not authorized" not in done.stderr.lower(), done.stderr
    assert decode(watch.wait(f"{B}/machine-access/0/locked")) == {"state": "locked"}
    # And a's lock was never touched.
    assert decode(
        subs(broker, [f"{A}/machine-access/0/locked"]).wait(f"{A}/machine-access/0/locked")
    ) == {"state": "locked"}
