"""Topic builders and parsers for the device and machine access protocols (seed 004).

Several lock devices share one broker, but the seed's lock topics carry no device id. Each
device therefore runs the Machine Access Protocol under its own prefix, its device subtree::

    {prefix}/device/{device_id}/online | name | firmware | ip         (device protocol)
    {prefix}/device/{device_id}/machine-access/command                 (refresh)
    {prefix}/device/{device_id}/machine-access/status                  (device-wide status)
    {prefix}/device/{device_id}/machine-access/{lock}/locked|command|status

Everything a device may touch lives under its own ``device/{id}`` subtree, which keeps the
broker ACL a simple per-user pattern (see :mod:`shared.mqtt.acl`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "DEVICE_FIELDS",
    "DEVICE_ID_PATTERN",
    "LOCK_FIELDS",
    "DeviceTopics",
    "ParsedTopic",
    "TopicError",
    "parse_topic",
    "validate_device_id",
    "validate_prefix",
]

#: Device ids double as MQTT user names in the ACL, so they avoid "/", "+", "#" and spaces.
DEVICE_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,32}")
DEVICE_FIELDS = ("online", "name", "firmware", "ip")
LOCK_FIELDS = ("locked", "command", "status")
_PREFIX_LEVEL = re.compile(r"[A-Za-z0-9_.-]+")

Field = Literal["online", "name", "firmware", "ip", "locked", "command", "status"]


class TopicError(ValueError):
    """A prefix, device id or topic that does not fit the protocol."""


def validate_prefix(prefix: str) -> str:
    """Return prefix if it is one or more plain levels (no wildcards, no leading "$" or "/")."""
    if not prefix or any(not _PREFIX_LEVEL.fullmatch(level) for level in prefix.split("/")):
        raise TopicError(
            f"invalid MQTT prefix {prefix!r}: use levels of [A-Za-z0-9_.-] separated by '/'"
        )
    return prefix


def validate_device_id(device_id: str) -> str:
    """Return device_id if it is 1-32 characters of [A-Za-z0-9_-]."""
    if not DEVICE_ID_PATTERN.fullmatch(device_id):
        raise TopicError(f"invalid device id {device_id!r}: use 1-32 characters of [A-Za-z0-9_-]")
    return device_id


@dataclass(frozen=True, slots=True)
class DeviceTopics:
    """Every topic of one device under one prefix."""

    prefix: str
    device_id: str

    def __post_init__(self) -> None:
        validate_prefix(self.prefix)
        validate_device_id(self.device_id)

    @property
    def base(self) -> str:
        return f"{self.prefix}/device/{self.device_id}"

    @property
    def online(self) -> str:
        return f"{self.base}/online"

    @property
    def name(self) -> str:
        return f"{self.base}/name"

    @property
    def firmware(self) -> str:
        return f"{self.base}/firmware"

    @property
    def ip(self) -> str:
        return f"{self.base}/ip"

    @property
    def access(self) -> str:
        """The Machine Access Protocol's ``$prefix/machine-access`` for this device."""
        return f"{self.base}/machine-access"

    @property
    def refresh(self) -> str:
        return f"{self.access}/command"

    @property
    def status(self) -> str:
        return f"{self.access}/status"

    def locked(self, lock: int) -> str:
        return f"{self.access}/{_lock(lock)}/locked"

    def command(self, lock: int) -> str:
        return f"{self.access}/{_lock(lock)}/command"

    def lock_status(self, lock: int) -> str:
        return f"{self.access}/{_lock(lock)}/status"


def _lock(lock: int) -> int:
    if isinstance(lock, bool) or not isinstance(lock, int) or lock < 0:
        raise TopicError(f"invalid lock index {lock!r}")
    return lock


@dataclass(frozen=True, slots=True)
class ParsedTopic:
    """What a topic under the prefix refers to; ``lock`` is None for device-wide topics."""

    device_id: str
    field: Field
    lock: int | None = None


def parse_topic(prefix: str, topic: str) -> ParsedTopic | None:
    """Recognise a device or machine-access topic under prefix; None for anything else.

    A lock segment that is not a decimal index yields None so callers can treat it like any
    unknown topic.
    """
    head = f"{prefix}/device/"
    if not topic.startswith(head):
        return None
    parts = topic[len(head) :].split("/")
    if not parts or not DEVICE_ID_PATTERN.fullmatch(parts[0]):
        return None
    device_id, rest = parts[0], parts[1:]
    if len(rest) == 1 and rest[0] in DEVICE_FIELDS:
        return ParsedTopic(device_id, rest[0])  # type: ignore[arg-type]
    if len(rest) == 2 and rest[0] == "machine-access" and rest[1] in ("command", "status"):
        return ParsedTopic(device_id, rest[1])  # type: ignore[arg-type]
    if len(rest) == 3 and rest[0] == "machine-access" and rest[2] in LOCK_FIELDS:
        index = rest[1]
        # Only canonical decimal indexes: "01" or "+1" would alias another lock.
        if not index.isdigit() or not index.isascii() or (len(index) > 1 and index[0] == "0"):
            return None
        return ParsedTopic(device_id, rest[2], int(index))  # type: ignore[arg-type]
    return None
