"""The firmware logic against a hand-written umqtt fake and Pin fake (no broker)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

import firmware.lockdevice as fw
from firmware.host.machine import Pin
from firmware.lockdevice import LockDevice, run
from shared.mqtt.codec import decode

P = "p/device/d1"  # the device tree
A = "p/machine-access"  # the machine-access tree of the same prefix (seed 004)


class FakeClient:
    """Records what umqtt.simple would send; delivers messages through the callback."""

    def __init__(self) -> None:
        self.published: list[tuple[str, str, bool]] = []
        self.subscribed: list[str] = []
        self.will: tuple[Any, ...] | None = None
        self.cb: Any = None
        self.connected = False

    def set_callback(self, cb: Any) -> None:
        self.cb = cb

    def set_last_will(self, topic: str, msg: bytes, retain: bool = False, qos: int = 0) -> None:
        self.will = (topic, msg, retain, qos)

    def connect(self) -> None:
        self.connected = True

    def disconnect(self) -> None:
        self.connected = False

    def publish(self, topic: str, msg: str, retain: bool = False, qos: int = 0) -> None:
        self.published.append((topic, msg, retain))

    def subscribe(self, topic: str, qos: int = 0) -> None:
        self.subscribed.append(topic)

    def deliver(self, topic: str, msg: bytes) -> list[tuple[str, str, bool]]:
        start = len(self.published)
        self.cb(topic.encode(), msg)
        return self.published[start:]


@pytest.fixture
def setup() -> tuple[LockDevice, FakeClient, list[Pin]]:
    client = FakeClient()
    pins = [Pin(i, Pin.OUT, value=1) for i in range(3)]  # powered up "on" on purpose
    clock = {"now": 0}
    device = LockDevice(
        client, pins, "d1", "p", ip="10.0.0.5", relock_ms=1000, ticks_ms=lambda: clock["now"]
    )
    device.clock = clock  # type: ignore[attr-defined]
    device.connect()
    return device, client, pins


def test_boots_locked_and_announces_everything(setup: Any) -> None:
    _device, client, pins = setup
    assert [p.value() for p in pins] == [0, 0, 0]
    assert client.will == (f"{P}/online", b"0", True, 1)
    retained = {t: m for t, m, r in client.published if r}
    assert retained[f"{P}/online"] == "1"
    assert retained[f"{P}/name"] == "d1"
    assert retained[f"{P}/firmware"] == fw.FIRMWARE_VERSION
    assert retained[f"{P}/ip"] == "10.0.0.5"
    for lock in range(3):
        assert retained[f"{A}/{lock}/locked"] == "state=locked"
    # online comes last, after the subscriptions are in place
    assert client.published[-1][0] == f"{P}/online"
    assert set(client.subscribed) == {
        f"{P}/name",
        f"{A}/command",
        f"{A}/+/command",
    }


def test_unlock_and_lock_echo_the_request(setup: Any) -> None:
    _device, client, pins = setup
    out = client.deliver(f"{A}/2/command", b"request=20400404\ncommand=unlock")
    assert out == [(f"{A}/2/locked", "state=unlocked\nrequest=20400404", True)]
    assert pins[2].value() == 1 and pins[0].value() == 0
    # Idempotent: unlock again still echoes
    out = client.deliver(f"{A}/2/command", b"command=unlock\nrequest=2")
    assert decode(out[0][1]) == {"state": "unlocked", "request": "2"}
    out = client.deliver(f"{A}/2/command", b"command=lock\nrequest=3")
    assert decode(out[0][1]) == {"state": "locked", "request": "3"} and pins[2].value() == 0


@pytest.mark.parametrize(
    ("topic", "payload", "status_topic", "message"),
    [
        (
            "machine-access/0/command",
            b"command=fly\nrequest=r",
            "machine-access/0/status",
            "Unknown command: fly",
        ),
        (
            "machine-access/0/command",
            b"command=unlock\nx=1",
            "machine-access/0/status",
            "Unknown key: x",
        ),
        (
            "machine-access/0/command",
            b"request=r",
            "machine-access/0/status",
            "Missing key: command",
        ),
        ("machine-access/0/command", b"garbage", "machine-access/0/status", "Malformed payload"),
        (
            "machine-access/0/command",
            b"request=" + b"x" * 257 + b"\ncommand=unlock",
            "machine-access/0/status",
            "too long value",
        ),
        (
            "machine-access/3/command",
            b"command=unlock",
            "machine-access/status",
            "Unknown lock id: 3",
        ),
        (
            "machine-access/01/command",
            b"command=unlock",
            "machine-access/status",
            "Unknown lock id: 01",
        ),
        (
            "machine-access/command",
            b"command=unlock",
            "machine-access/status",
            "Unknown command: unlock",
        ),
    ],
)
def test_errors_get_status_and_change_nothing(
    setup: Any, topic: str, payload: bytes, status_topic: str, message: str
) -> None:
    _device, client, pins = setup
    out = client.deliver(f"p/{topic}", payload)
    assert len(out) == 1
    assert out[0][0] == f"p/{status_topic}" and out[0][2] is False
    fields = decode(out[0][1])
    assert message in fields["message"] and fields["level"] == "warning"
    if b"request=r" in payload:
        assert fields["request"] == "r"
    assert [p.value() for p in pins] == [0, 0, 0]


def test_refresh_republishes_all_states(setup: Any) -> None:
    _device, client, _pins = setup
    client.deliver(f"{A}/1/command", b"command=unlock\nrequest=a")
    out = client.deliver(f"{A}/command", b"command=refresh")
    states = {t: m for t, m, _ in out if t.endswith("/locked")}
    assert states == {
        f"{A}/0/locked": "state=locked",
        f"{A}/1/locked": "state=unlocked\nrequest=a",
        f"{A}/2/locked": "state=locked",
    }


def test_auto_relock(setup: Any) -> None:
    device, client, pins = setup
    client.deliver(f"{A}/0/command", b"command=unlock\nrequest=a")
    device.clock["now"] = 999
    device.tick(999)
    assert pins[0].value() == 1
    device.tick(1000)
    assert pins[0].value() == 0
    assert (f"{A}/0/locked", "state=locked", True) in client.published


def test_rename(setup: Any) -> None:
    device, client, _pins = setup
    assert client.deliver(f"{P}/name", b"laser-1") == []
    assert device.name == "laser-1"
    out = client.deliver(f"{P}/name", b"x" * 21)
    assert "Invalid name" in decode(out[0][1])["message"]
    assert out[1] == (f"{P}/name", "laser-1", True)


def test_run_reconnects_with_backoff_then_stops() -> None:
    class Flaky(FakeClient):
        def __init__(self) -> None:
            super().__init__()
            self.attempts = 0

        def connect(self) -> None:
            self.attempts += 1
            if self.attempts < 3:
                raise OSError("refused")

        def wait_msg(self) -> None:
            device.running = False

        def ping(self) -> None:
            pass

    client = Flaky()
    device = LockDevice(client, [Pin(0, Pin.OUT)], "d1", "p")
    sleeps: list[int] = []
    run(device, client, sleep_ms=sleeps.append, ticks_ms=lambda: 0, backoff_ms=(100, 150))
    assert sleeps == [100, 150]
    assert client.published[-1] == (f"{P}/online", "0", True)  # orderly shutdown


ALLOWED_IMPORTS: set[str] = set()  # the logic module gets everything injected


def test_logic_module_stays_in_the_micropython_subset() -> None:
    source = Path(fw.__file__).read_text()
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            assert set(names) <= ALLOWED_IMPORTS, f"import {names} is not on a board"
        assert not isinstance(node, ast.JoinedStr), "f-strings are not in every MicroPython port"
        assert not isinstance(node, ast.AnnAssign), "annotations are not MicroPython"
        if isinstance(node, ast.FunctionDef):
            assert node.returns is None and all(a.annotation is None for a in node.args.args)
