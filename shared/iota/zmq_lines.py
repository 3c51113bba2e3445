"""IRI's ZMQ feed: one-frame messages ``<topic> <field> <field> ...``.

The devnet formats these lines and every subscriber parses them with the same
dataclasses, so the field order lives in exactly one place. Formats follow IRI
1.8 (see docs/devnet.md):

- ``tx <hash> <address> <value> <obsoleteTag> <timestamp> <currentIndex>
  <lastIndex> <bundle> <trunk> <branch> <arrivalTime> <tag>``
- ``tx_trytes <trytes> <hash>`` (IRI <= 1.8.5) and ``trytes <trytes> <hash>`` (1.8.6)
- ``sn <milestoneIndex> <hash> <address> <trunk> <branch> <bundle>``
- ``<ADDRESS> <hash> <milestoneIndex> sn`` (per-address topic)
- ``lmi <old> <new>``, ``lmsi <old> <new>``, ``lmhs <hash>``
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AddressConfirmation",
    "LatestMilestoneHash",
    "LatestMilestoneIndex",
    "LatestSolidMilestoneIndex",
    "TransactionConfirmed",
    "TransactionSeen",
    "TransactionTrytes",
    "ZmqEvent",
    "ZmqLineError",
    "format_event",
    "parse_line",
]


class ZmqLineError(ValueError):
    """A ZMQ message that is not one of IRI's documented lines."""


@dataclass(frozen=True, slots=True)
class TransactionSeen:
    """``tx``: a transaction arrived at the node."""

    hash: str
    address: str
    value: int
    obsolete_tag: str
    timestamp: int
    current_index: int
    last_index: int
    bundle: str
    trunk: str
    branch: str
    arrival_time: int
    tag: str

    topic = "tx"

    def fields(self) -> list[str]:
        return [
            self.hash,
            self.address,
            str(self.value),
            self.obsolete_tag,
            str(self.timestamp),
            str(self.current_index),
            str(self.last_index),
            self.bundle,
            self.trunk,
            self.branch,
            str(self.arrival_time),
            self.tag,
        ]


@dataclass(frozen=True, slots=True)
class TransactionTrytes:
    """``tx_trytes`` / ``trytes``: the raw 2673 trytes of a new transaction."""

    trytes: str
    hash: str
    topic: str = "tx_trytes"

    def fields(self) -> list[str]:
        return [self.trytes, self.hash]


@dataclass(frozen=True, slots=True)
class TransactionConfirmed:
    """``sn``: a transaction was confirmed by milestone ``milestone_index``."""

    milestone_index: int
    hash: str
    address: str
    trunk: str
    branch: str
    bundle: str

    topic = "sn"

    def fields(self) -> list[str]:
        return [
            str(self.milestone_index),
            self.hash,
            self.address,
            self.trunk,
            self.branch,
            self.bundle,
        ]


@dataclass(frozen=True, slots=True)
class AddressConfirmation:
    """The per-address topic: ``<ADDRESS> <hash> <milestoneIndex> sn``."""

    address: str
    hash: str
    milestone_index: int

    @property
    def topic(self) -> str:
        return self.address

    def fields(self) -> list[str]:
        return [self.hash, str(self.milestone_index), "sn"]


@dataclass(frozen=True, slots=True)
class LatestMilestoneIndex:
    """``lmi <old> <new>``."""

    previous: int
    latest: int
    topic = "lmi"

    def fields(self) -> list[str]:
        return [str(self.previous), str(self.latest)]


@dataclass(frozen=True, slots=True)
class LatestSolidMilestoneIndex:
    """``lmsi <old> <new>``."""

    previous: int
    latest: int
    topic = "lmsi"

    def fields(self) -> list[str]:
        return [str(self.previous), str(self.latest)]


@dataclass(frozen=True, slots=True)
class LatestMilestoneHash:
    """``lmhs <hash>``."""

    hash: str
    topic = "lmhs"

    def fields(self) -> list[str]:
        return [self.hash]


ZmqEvent = (
    TransactionSeen
    | TransactionTrytes
    | TransactionConfirmed
    | AddressConfirmation
    | LatestMilestoneIndex
    | LatestSolidMilestoneIndex
    | LatestMilestoneHash
)


def format_event(event: ZmqEvent) -> str:
    """The one-frame line IRI would publish for ``event``."""
    return " ".join([event.topic, *event.fields()])


def _int(text: str, what: str, line: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ZmqLineError(f"{what} is not an integer in {line[:120]!r}") from None


def _expect(parts: list[str], count: int, line: str) -> None:
    if len(parts) != count:
        raise ZmqLineError(
            f"{parts[0]!r} line needs {count - 1} fields, got {len(parts) - 1}: {line[:120]!r}"
        )


def parse_line(line: str | bytes) -> ZmqEvent:
    """Parse one ZMQ frame into its event; raises ZmqLineError on anything else."""
    text = line.decode("ascii", "replace") if isinstance(line, bytes) else line
    parts = text.strip().split(" ")
    if not parts or not parts[0]:
        raise ZmqLineError("empty ZMQ message")
    topic = parts[0]
    if topic == "tx":
        _expect(parts, 13, text)
        return TransactionSeen(
            hash=parts[1],
            address=parts[2],
            value=_int(parts[3], "value", text),
            obsolete_tag=parts[4],
            timestamp=_int(parts[5], "timestamp", text),
            current_index=_int(parts[6], "currentIndex", text),
            last_index=_int(parts[7], "lastIndex", text),
            bundle=parts[8],
            trunk=parts[9],
            branch=parts[10],
            arrival_time=_int(parts[11], "arrivalTime", text),
            tag=parts[12],
        )
    if topic in ("tx_trytes", "trytes"):
        _expect(parts, 3, text)
        return TransactionTrytes(trytes=parts[1], hash=parts[2], topic=topic)
    if topic == "sn":
        _expect(parts, 7, text)
        return TransactionConfirmed(
            milestone_index=_int(parts[1], "milestoneIndex", text),
            hash=parts[2],
            address=parts[3],
            trunk=parts[4],
            branch=parts[5],
            bundle=parts[6],
        )
    if topic in ("lmi", "lmsi"):
        _expect(parts, 3, text)
        cls = LatestMilestoneIndex if topic == "lmi" else LatestSolidMilestoneIndex
        return cls(
            previous=_int(parts[1], "old index", text), latest=_int(parts[2], "new index", text)
        )
    if topic == "lmhs":
        _expect(parts, 2, text)
        return LatestMilestoneHash(hash=parts[1])
    if len(topic) in (81, 90) and len(parts) == 4 and parts[3] == "sn":
        return AddressConfirmation(
            address=topic[:81],
            hash=parts[1],
            milestone_index=_int(parts[2], "milestoneIndex", text),
        )
    raise ZmqLineError(f"unknown ZMQ topic {topic[:90]!r}")
