"""Topic builders and parsers for the device and machine access protocols (seed 004).

Exactly the seed's layout. Every device has a prefix of its own (for example
``bitraf/lasercutter``), and both of its trees hang under it::

    {prefix}/device/{device_id}/online | name | firmware | ip     (device protocol)
    {prefix}/machine-access/command                               (refresh)
    {prefix}/machine-access/status                                (device-wide status)
    {prefix}/machine-access/{lock}/command | locked | status      (one lock)

Many devices share one broker by having different prefixes; the lock topics carry no device
id, so a lock is named by its device's prefix and its index. By default a device's prefix is
``{root}/{device_id}`` (:func:`device_prefix`), which lets one ACL pattern keep each device
under its own prefix (see :mod:`shared.mqtt.acl`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "DEVICE_FIELDS",
    "DEVICE_ID_PATTERN",
    "LOCK_FIELDS",
    "MAX_PREFIX_LENGTH",
    "AccessTopics",
    "DeviceTopics",
    "ParsedTopic",
    "TopicError",
    "device_prefix",
    "parse_topic",
    "validate_device_id",
    "validate_prefix",
]

#: Device ids double as MQTT user names in the ACL, so they avoid "/", "+", "#" and spaces.
DEVICE_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,32}")
DEVICE_FIELDS = ("online", "name", "firmware", "ip")
LOCK_FIELDS = ("locked", "command", "status")
MAX_PREFIX_LENGTH = 200
_PREFIX_LEVEL = re.compile(r"[A-Za-z0-9_.-]+")

Field = Literal["online", "name", "firmware", "ip", "locked", "command", "status"]


class TopicError(ValueError):
    """A prefix, device id or topic that does not fit the protocol."""


def validate_prefix(prefix: str) -> str:
    """Return prefix if it is one or more plain levels (no wildcards, no leading "$" or "/")."""
    if (
        not prefix
        or len(prefix) > MAX_PREFIX_LENGTH
        or any(not _PREFIX_LEVEL.fullmatch(level) for level in prefix.split("/"))
    ):
        raise TopicError(
            f"invalid MQTT prefix {prefix!r}: use levels of [A-Za-z0-9_.-] separated by '/'"
            f" (at most {MAX_PREFIX_LENGTH} characters)"
        )
    return prefix


def validate_device_id(device_id: str) -> str:
    """Return device_id if it is 1-32 characters of [A-Za-z0-9_-]."""
    if not DEVICE_ID_PATTERN.fullmatch(device_id):
        raise TopicError(f"invalid device id {device_id!r}: use 1-32 characters of [A-Za-z0-9_-]")
    return device_id


def device_prefix(root: str, device_id: str) -> str:
    """The default prefix of a device: ``{root}/{device_id}`` (what the default ACL allows)."""
    return validate_prefix(f"{validate_prefix(root)}/{validate_device_id(device_id)}")


def _lock(lock: int) -> int:
    if isinstance(lock, bool) or not isinstance(lock, int) or lock < 0:
        raise TopicError(f"invalid lock index {lock!r}")
    return lock


@dataclass(frozen=True, slots=True)
class AccessTopics:
    """The Machine Access Protocol's topics under one device prefix."""

    prefix: str

    def __post_init__(self) -> None:
        validate_prefix(self.prefix)

    @property
    def access(self) -> str:
        """``$prefix/machine-access``."""
        return f"{self.prefix}/machine-access"

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


@dataclass(frozen=True, slots=True)
class DeviceTopics(AccessTopics):
    """Every topic of one device: its device subtree and its prefix's machine-access tree."""

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


@dataclass(frozen=True, slots=True)
class ParsedTopic:
    """What a topic refers to.

    ``device_id`` is set for the device topics (online, name, firmware, ip) only; ``lock``
    is set for the per-lock topics and None for the prefix-wide command and status.
    """

    prefix: str
    field: Field
    lock: int | None = None
    device_id: str | None = None


def _canonical_index(text: str) -> int | None:
    # Only canonical decimal indexes: "01" or "+1" would alias another lock.
    if not text.isdigit() or not text.isascii() or (len(text) > 1 and text[0] == "0"):
        return None
    return int(text)


def parse_topic(topic: str, prefix: str | None = None) -> ParsedTopic | None:
    """Recognise a device or machine-access topic; None for anything else.

    The prefix is what precedes ``/device/{id}/{field}`` or ``/machine-access/...``; when
    ``prefix`` is given, a topic under any other prefix yields None. A lock segment that is
    not a canonical decimal index yields None so callers can treat it like any unknown topic.
    """
    levels = topic.split("/")
    parsed: ParsedTopic | None = None
    if len(levels) >= 4 and levels[-3] == "device" and levels[-1] in DEVICE_FIELDS:
        if DEVICE_ID_PATTERN.fullmatch(levels[-2]):
            parsed = ParsedTopic(
                "/".join(levels[:-3]),
                levels[-1],  # type: ignore[arg-type]
                device_id=levels[-2],
            )
    elif (
        len(levels) >= 3 and levels[-2] == "machine-access" and levels[-1] in ("command", "status")
    ):
        parsed = ParsedTopic("/".join(levels[:-2]), levels[-1])  # type: ignore[arg-type]
    elif len(levels) >= 4 and levels[-3] == "machine-access" and levels[-1] in LOCK_FIELDS:
        index = _canonical_index(levels[-2])
        if index is not None:
            parsed = ParsedTopic("/".join(levels[:-3]), levels[-1], index)  # type: ignore[arg-type]
    if parsed is None or (prefix is not None and parsed.prefix != prefix):
        return None
    try:
        validate_prefix(parsed.prefix)
    except TopicError:
        return None
    return parsed
