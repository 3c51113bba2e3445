"""Lock controller pieces without a broker: policy, passwords, settings, the echo matcher."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from services.lock.controller import Controller
from services.lock.db import Account, Membership, Tool, create_schema
from services.lock.link import CommandTimeout, DeviceRefused, Echo, LockLink
from services.lock.policy import checkout_refusal
from services.lock.routers.checkouts import checkin, checkout
from services.lock.settings import LockSettings
from shared.auth import hash_password, token_digest, verify_password
from shared.db import run_db
from shared.mqtt.client import Message
from shared.mqtt.codec import decode
from shared.settings import SettingsError, load_settings

NOW = datetime(2030, 1, 1, tzinfo=UTC)
PAST = datetime(2020, 1, 1, tzinfo=UTC)
PAID = [(NOW - timedelta(days=1), NOW + timedelta(days=1))]


def test_policy() -> None:
    ok = checkout_refusal(tool_circle="laser", account_circles=["laser"], memberships=PAID, now=NOW)
    assert ok is None
    assert checkout_refusal(tool_circle=None, account_circles=[], memberships=PAID, now=NOW) is None
    outside = checkout_refusal(
        tool_circle="laser", account_circles=["cnc"], memberships=PAID, now=NOW
    )
    assert outside and "laser" in outside
    expired = [(NOW - timedelta(days=30), NOW)]
    assert (
        checkout_refusal(tool_circle=None, account_circles=[], memberships=expired, now=NOW)
        == "no active membership"
    )


def test_passwords() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$") and "correct horse" not in stored
    assert verify_password("correct horse", stored)
    assert not verify_password("wrong", stored)
    assert not verify_password("x", "garbage")
    assert hash_password("a") != hash_password("a")  # salted
    assert len(token_digest("t")) == 64


def test_settings_name_the_bad_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MQTT_URL", "http://user:topsecret@host")
    monkeypatch.setenv("COMMAND_TIMEOUT", "-1")
    monkeypatch.setenv("LOCK_ADMIN_PASSWORD", "changeme")
    with pytest.raises(SettingsError):
        load_settings(LockSettings)
    err = capsys.readouterr().err
    assert "MQTT_URL:" in err and "COMMAND_TIMEOUT:" in err and "LOCK_ADMIN_PASSWORD:" in err
    assert "topsecret" not in err and "changeme" not in err


class FakeMqtt:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def publish(
        self, topic: str, payload: str, *, qos: int = 1, retain: bool = False
    ) -> None:
        self.sent.append((topic, payload))


def _msg(topic: str, payload: str) -> Message:
    return Message(topic, payload.encode(), 1, False)


async def test_command_completes_only_on_matching_echo() -> None:
    mqtt = FakeMqtt()
    link = LockLink(mqtt, "p")  # type: ignore[arg-type]
    task = asyncio.create_task(link.command("p/d1", 0, "unlock", timeout=2))
    await asyncio.sleep(0)
    topic, payload = mqtt.sent[0]
    assert topic == "p/d1/machine-access/0/command"
    request = decode(payload)["request"]
    # Echoes for another request, another lock or another device's prefix do not count.
    link.handle(_msg("p/d1/machine-access/0/locked", "state=unlocked\nrequest=other"))
    link.handle(_msg("p/d1/machine-access/1/locked", f"state=unlocked\nrequest={request}"))
    link.handle(_msg("p/d2/machine-access/0/locked", f"state=unlocked\nrequest={request}"))
    link.handle(_msg("p/d1/machine-access/0/locked", "garbage"))
    await asyncio.sleep(0.01)
    assert not task.done()
    link.handle(_msg("p/d1/machine-access/0/locked", f"state=unlocked\nrequest={request}"))
    echo = await task
    assert echo.state == "unlocked" and echo.request == request
    assert link.prefixes["p/d1"].locks[0].state == "unlocked"


async def test_command_timeout_and_device_refusal() -> None:
    mqtt = FakeMqtt()
    link = LockLink(mqtt, "p")  # type: ignore[arg-type]
    with pytest.raises(CommandTimeout):
        await link.command("p/d1", 0, "unlock", timeout=0.05)
    # A wrong-state echo for our request is a failure, not a success.
    task = asyncio.create_task(link.command("p/d1", 0, "unlock", timeout=2))
    await asyncio.sleep(0)
    request = decode(mqtt.sent[-1][1])["request"]
    link.handle(_msg("p/d1/machine-access/0/locked", f"state=locked\nrequest={request}"))
    with pytest.raises(DeviceRefused):
        await task
    task = asyncio.create_task(link.command("p/d1", 0, "lock", timeout=2))
    await asyncio.sleep(0)
    request = decode(mqtt.sent[-1][1])["request"]
    link.handle(_msg("p/d1/machine-access/0/status", f"message=jammed\nrequest={request}"))
    with pytest.raises(DeviceRefused, match="jammed"):
        await task


def test_online_tracking() -> None:
    link = LockLink(FakeMqtt(), "p")  # type: ignore[arg-type]
    link.handle(_msg("p/d1/device/d1/online", "1"))
    device = link.device("p/d1", "d1")
    assert device is not None and device.online is True
    link.handle(_msg("p/d1/device/d1/online", "0"))
    assert device.online is False
    link.handle(_msg("p/d1/device/d1/ip", "10.0.0.7"))
    assert device.ip == "10.0.0.7"
    # Outside the root and not watched: ignored.
    link.handle(_msg("q/device/d9/online", "1"))
    assert link.device("q", "d9") is None


async def test_watched_prefix_outside_the_root() -> None:
    mqtt = FakeMqtt()
    subscribed: list[str] = []

    async def subscribe(topic: str, qos: int = 1) -> None:
        subscribed.append(topic)

    mqtt.subscribe = subscribe  # type: ignore[attr-defined]
    link = LockLink(mqtt, "p")  # type: ignore[arg-type]
    await link.watch("p/d1")  # under the root: already read
    await link.watch("space/laser")
    await link.watch("space/laser")
    assert subscribed == ["space/laser/#"]
    link.handle(_msg("space/laser/machine-access/0/locked", "state=unlocked\nrequest=r1"))
    state = link.state("space/laser")
    assert state is not None and state.locks[0].state == "unlocked"
    await link.refresh("space/laser")
    assert mqtt.sent[-1] == ("space/laser/machine-access/command", "command=refresh")


async def test_no_database_connection_is_held_while_waiting_for_the_device(
    tmp_path: Path,
) -> None:
    """Checkout and checkin do their database work in short sessions: while the controller
    awaits the device's echo, no connection is checked out. (The checkout's own write runs
    beside the command, checkouts.py, and is done without waiting for the echo.)"""
    settings = LockSettings(
        mqtt_url=SecretStr("mqtt://lock-controller:pw@127.0.0.1:1"),
        data_dir=tmp_path,
        lock_admin_password=SecretStr("admin-password-1"),
    )
    controller = Controller(settings)
    try:
        await run_db(create_schema, controller.engine, settings.mqtt_prefix)
        await run_db(controller.bootstrap_admin)
        with controller.sessions() as session:
            admin = session.scalars(select(Account)).one()
            session.add(Membership(account_id=admin.id, starts_at=PAST, ends_at=NOW))
            tool = Tool(name="saw", device_id="d1", device_prefix="p/d1", lock_index=0)
            session.add(tool)
            session.commit()
        held: list[int] = []

        async def command(
            prefix: str, lock: int, command: str, timeout: float, request: str | None = None
        ) -> Echo:
            assert (prefix, lock) == ("p/d1", 0)
            pool = controller.engine.pool
            deadline = time.monotonic() + 10
            while pool.checkedout() and time.monotonic() < deadline:  # type: ignore[attr-defined]
                await asyncio.sleep(0.01)  # the checkout's write, finishing by itself
            held.append(pool.checkedout())  # type: ignore[attr-defined]
            await asyncio.sleep(0.05)
            held.append(pool.checkedout())  # type: ignore[attr-defined]
            state = "unlocked" if command == "unlock" else "locked"
            return Echo(prefix, lock, state, request or f"req-{command}", 0.05)

        controller.link.command = command  # type: ignore[method-assign]
        controller.mqtt = SimpleNamespace(connected=True)  # type: ignore[assignment]
        out = await checkout(tool.id, admin, controller)
        assert out.state == "unlocked" and out.tool.holder == "admin"
        out = await checkin(tool.id, admin, controller)
        assert out.state == "locked" and out.tool.holder is None
        assert held == [0, 0, 0, 0]
    finally:
        controller.engine.dispose()
