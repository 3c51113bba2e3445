"""Topic builders/parsers, broker URL parsing and the ACL file kept in sync with the code."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.mqtt.acl import render_acl
from shared.mqtt.topics import DeviceTopics, ParsedTopic, TopicError, parse_topic
from shared.mqtt.url import parse_mqtt_url

ids = st.from_regex(r"[A-Za-z0-9_-]{1,32}", fullmatch=True)
prefixes = st.from_regex(r"[a-z0-9.-]{1,10}(/[a-z0-9_]{1,10}){0,2}", fullmatch=True)


def test_seed_topics_under_the_device_subtree() -> None:
    t = DeviceTopics("bitraf", "door-1")
    assert t.online == "bitraf/device/door-1/online"
    assert t.name == "bitraf/device/door-1/name"
    assert t.firmware == "bitraf/device/door-1/firmware"
    assert t.ip == "bitraf/device/door-1/ip"
    assert t.refresh == "bitraf/device/door-1/machine-access/command"
    assert t.locked(3) == "bitraf/device/door-1/machine-access/3/locked"
    assert t.command(0) == "bitraf/device/door-1/machine-access/0/command"
    assert t.lock_status(2) == "bitraf/device/door-1/machine-access/2/status"


@given(prefixes, ids, st.integers(0, 999))
def test_build_then_parse(prefix: str, device: str, lock: int) -> None:
    t = DeviceTopics(prefix, device)
    assert parse_topic(prefix, t.locked(lock)) == ParsedTopic(device, "locked", lock)
    assert parse_topic(prefix, t.command(lock)) == ParsedTopic(device, "command", lock)
    assert parse_topic(prefix, t.online) == ParsedTopic(device, "online")
    assert parse_topic(prefix, t.status) == ParsedTopic(device, "status")


@pytest.mark.parametrize(
    "topic",
    [
        "p/device/a/machine-access/01/locked",
        "p/device/a/machine-access/-1/locked",
        "p/device/a/machine-access/x/locked",
        "p/device/a/other",
        "q/device/a/online",
        "p/device/a/machine-access/0/locked/extra",
    ],
)
def test_foreign_topics_are_not_recognised(topic: str) -> None:
    assert parse_topic("p", topic) is None


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


def test_acl_scopes_devices_to_their_own_subtree() -> None:
    acl = render_acl("p")
    assert "pattern write p/device/%u/machine-access/+/locked" in acl
    assert "pattern read p/device/%u/machine-access/+/command" in acl
    # Devices never get write access to commands; only the controller user does.
    assert not [
        line
        for line in acl.splitlines()
        if line.startswith("pattern write") and line.endswith("/command")
    ]
    with pytest.raises(ValueError):
        render_acl("p", "bad/user")
