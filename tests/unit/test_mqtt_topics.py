"""Topic builders/parsers, broker URL parsing and the ACL file kept in sync with the code."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.mqtt.acl import render_acl
from shared.mqtt.topics import (
    AccessTopics,
    DeviceTopics,
    ParsedTopic,
    TopicError,
    device_prefix,
    parse_topic,
)
from shared.mqtt.url import parse_mqtt_url

ids = st.from_regex(r"[A-Za-z0-9_-]{1,32}", fullmatch=True)
prefixes = st.from_regex(r"[a-z0-9.-]{1,10}(/[a-z0-9_]{1,10}){0,2}", fullmatch=True)


def test_seed_topics_exactly() -> None:
    t = DeviceTopics("bitraf/lasercutter", "door-1")
    assert t.online == "bitraf/lasercutter/device/door-1/online"
    assert t.name == "bitraf/lasercutter/device/door-1/name"
    assert t.firmware == "bitraf/lasercutter/device/door-1/firmware"
    assert t.ip == "bitraf/lasercutter/device/door-1/ip"
    assert t.refresh == "bitraf/lasercutter/machine-access/command"
    assert t.status == "bitraf/lasercutter/machine-access/status"
    assert t.locked(3) == "bitraf/lasercutter/machine-access/3/locked"
    assert t.command(0) == "bitraf/lasercutter/machine-access/0/command"
    assert t.lock_status(2) == "bitraf/lasercutter/machine-access/2/status"
    assert AccessTopics("bitraf/lasercutter").command(0) == t.command(0)
    assert device_prefix("bitraf", "door-1") == "bitraf/door-1"


@given(prefixes, ids, st.integers(0, 999))
def test_build_then_parse(prefix: str, device: str, lock: int) -> None:
    t = DeviceTopics(prefix, device)
    assert parse_topic(t.locked(lock)) == ParsedTopic(prefix, "locked", lock)
    assert parse_topic(t.command(lock), prefix) == ParsedTopic(prefix, "command", lock)
    assert parse_topic(t.lock_status(lock)) == ParsedTopic(prefix, "status", lock)
    assert parse_topic(t.online) == ParsedTopic(prefix, "online", device_id=device)
    assert parse_topic(t.ip, prefix) == ParsedTopic(prefix, "ip", device_id=device)
    assert parse_topic(t.status) == ParsedTopic(prefix, "status")
    assert parse_topic(t.refresh) == ParsedTopic(prefix, "command")
    assert parse_topic(t.locked(lock), prefix + "x") is None


@pytest.mark.parametrize(
    "topic",
    [
        "p/machine-access/01/locked",
        "p/machine-access/-1/locked",
        "p/machine-access/x/locked",
        "p/device/a/other",
        "q/device/a/online",
        "p/machine-access/0/locked/extra",
        "p/machine-access/other",
        "p/device/a/machine-access/0/locked",
        "machine-access/0/locked",
        "p/device/a+b/online",
    ],
)
def test_foreign_topics_are_not_recognised(topic: str) -> None:
    assert parse_topic(topic, "p") is None


@pytest.mark.parametrize(
    ("prefix", "device"), [("", "a"), ("a/+", "a"), ("$SYS", "a"), ("p", "a/b"), ("p", "a#")]
)
def test_invalid_prefix_or_device_refused(prefix: str, device: str) -> None:
    with pytest.raises(TopicError):
        DeviceTopics(prefix, device)


def test_mqtt_url() -> None:
    url = parse_mqtt_url("mqtt://lock-a:s%40cret@broker:1884")
    assert (url.host, url.port, url.username, url.password) == ("broker", 1884, "lock-a", "s@cret")
    assert "s@cret" not in repr(url) and "s@cret" not in url.redacted()
    assert parse_mqtt_url("mqtt://broker").port == 1883
    for bad in ("http://x", "mqtt://", "mqtt://h:99999", "mqtt://h/path"):
        with pytest.raises(ValueError):
            parse_mqtt_url(bad)


def test_shipped_acl_matches_the_generator() -> None:
    shipped = Path(__file__).resolve().parents[2] / "services/lock/mosquitto/acl"
    assert shipped.read_text() == render_acl("machine-economy")


def test_acl_scopes_devices_to_their_own_prefix() -> None:
    acl = render_acl("p", devices={"laser1": "space/laser"})
    assert "pattern write p/%u/machine-access/+/locked" in acl
    assert "pattern read p/%u/machine-access/+/command" in acl
    assert "pattern write p/%u/device/%u/online" in acl
    # A device with a prefix of its own gets its own block, and the controller may command it.
    laser = acl.split("user laser1\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert "topic write space/laser/machine-access/+/locked" in laser
    assert "topic write space/laser/device/laser1/ip" in laser
    controller = acl.split("user lock-controller\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert "topic write space/laser/machine-access/+/command" in controller
    assert "topic write p/+/machine-access/+/command" in controller
    # Devices never get write access to commands; only the controller user does.
    assert not [
        line
        for line in acl.splitlines()
        if line.startswith(("pattern write", "pattern readwrite")) and line.endswith("/command")
    ]
    assert "write space/laser/machine-access/+/command" not in "\n".join(laser)
    with pytest.raises(ValueError):
        render_acl("p", "bad/user")
    with pytest.raises(TopicError):
        render_acl("p", devices={"a/b": "x"})
