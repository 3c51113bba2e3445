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

import dataclasses
from dataclasses import dataclass
from typing import Any, TypeVar

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
    "event_of",
    "format_event",
    "parse_line",
]


class ZmqLineError(ValueError):
    """A ZMQ message that is not one of IRI's documented lines."""


class _Fields:
    """An event whose line is its fields, in the order they are declared (IRI's order)."""

    __slots__ = ()

    def fields(self) -> list[str]:
        return [str(getattr(self, name)) for name, _ in _layout(type(self))]


@dataclass(frozen=True, slots=True)
class TransactionSeen(_Fields):
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


@dataclass(frozen=True, slots=True)
class TransactionTrytes:
    """``tx_trytes`` / ``trytes``: the raw 2673 trytes of a new transaction."""

    trytes: str
    hash: str
    topic: str = "tx_trytes"

    def fields(self) -> list[str]:
        return [self.trytes, self.hash]


@dataclass(frozen=True, slots=True)
class TransactionConfirmed(_Fields):
    """``sn``: a transaction was confirmed by milestone ``milestone_index``."""

    milestone_index: int
    hash: str
    address: str
    trunk: str
    branch: str
    bundle: str

    topic = "sn"


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
class _IndexChange(_Fields):
    previous: int
    latest: int


@dataclass(frozen=True, slots=True)
class LatestMilestoneIndex(_IndexChange):
    """``lmi <old> <new>``."""

    topic = "lmi"


@dataclass(frozen=True, slots=True)
class LatestSolidMilestoneIndex(_IndexChange):
    """``lmsi <old> <new>``."""

    topic = "lmsi"


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


E = TypeVar("E", TransactionSeen, TransactionConfirmed, AddressConfirmation)
P = TypeVar(
    "P", TransactionSeen, TransactionConfirmed, LatestMilestoneIndex, LatestSolidMilestoneIndex
)


def event_of(kind: type[E], transaction: Any, **values: Any) -> E:
    """The ``kind`` event about ``transaction``: its fields of the same names, and
    ``values`` for the others (``arrival_time``, ``milestone_index``)."""
    for name, _ in _layout(kind):
        if name not in values:
            values[name] = getattr(transaction, name)
    return kind(**values)


def format_event(event: ZmqEvent) -> str:
    """The one-frame line IRI would publish for ``event``."""
    return " ".join([event.topic, *event.fields()])


def _parse(kind: type[P], parts: list[str], line: str) -> P:
    """``kind`` from a line's fields in declaration order; integer fields must parse."""
    layout = _layout(kind)
    _expect(parts, len(layout) + 1, line)
    values: dict[str, Any] = {}
    for (name, integer), text in zip(layout, parts[1:], strict=True):
        values[name] = _int(text, integer, line) if integer else text
    return kind(**values)


# kind -> its fields in order, each with IRI's name (``currentIndex``) if an integer.
_LAYOUTS: dict[type[Any], tuple[tuple[str, str | None], ...]] = {}


def _layout(kind: type[Any]) -> tuple[tuple[str, str | None], ...]:
    layout = _LAYOUTS.get(kind)
    if layout is None:
        names = []
        for field in dataclasses.fields(kind):
            first, *rest = field.name.split("_")
            # The annotations are strings here (``from __future__ import annotations``).
            iri = first + "".join(word.title() for word in rest) if field.type == "int" else None
            names.append((field.name, iri))
        layout = _LAYOUTS[kind] = tuple(names)
    return layout


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
        return _parse(TransactionSeen, parts, text)
    if topic in ("tx_trytes", "trytes"):
        _expect(parts, 3, text)
        return TransactionTrytes(trytes=parts[1], hash=parts[2], topic=topic)
    if topic == "sn":
        return _parse(TransactionConfirmed, parts, text)
    if topic == "lmi":
        return _parse(LatestMilestoneIndex, parts, text)
    if topic == "lmsi":
        return _parse(LatestSolidMilestoneIndex, parts, text)
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
