"""A payment channel's terms and state, as the channel agent's rules (shared/channels/rules.py)
read them: the definition (both parties' payout address and Ed25519 key, the timeout,
the salt) and its id, the escrow seed of each period, the signed envelopes parties send,
the events the agent feeds the rules, and a channel's state between them. Pure data:
nothing here touches a network, a database or a clock.

(A *payment* channel; the MAM channels of the energy market are shared/mam and
shared/energy/channels.py.)
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "MAX_AMOUNT",
    "MAX_TIMEOUT",
    "PARTIES",
    "TRYTES",
    "ChannelDefinition",
    "ChannelState",
    "Clock",
    "Command",
    "Deposit",
    "Outcome",
    "Party",
    "PartyDef",
    "RuleError",
    "Settlement",
    "Status",
    "canonical",
    "checked_address",
    "checked_amount",
    "escrow_seed",
    "other",
    "sign",
    "verify",
]

Party = Literal["A", "B"]
PARTIES: tuple[Party, Party] = ("A", "B")
TRYTES = re.compile(r"^[9A-Z]{81}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_SALT = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
MAX_TIMEOUT = 30 * 24 * 3600
# Amounts are IOTA tokens: the whole supply fits; anything larger is malformed.
MAX_AMOUNT = (3**33 - 1) // 2
_TRYTE_ALPHABET = "9ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class RuleError(ValueError):
    """Malformed input (a definition, a signed message); the message says what is wrong."""


def other(party: Party) -> Party:
    return "B" if party == "A" else "A"


def canonical(obj: Any) -> bytes:
    """The bytes that are hashed and signed: sorted keys, no spaces, ASCII, strict JSON
    (NaN or Infinity raise ValueError: no other JSON parser would read them back)."""
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode()


def checked_amount(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_AMOUNT:
        raise RuleError(f"{name} must be an integer between 0 and {MAX_AMOUNT}")
    return value


def checked_address(value: Any, name: str) -> str:
    if not isinstance(value, str) or not TRYTES.match(value):
        raise RuleError(f"{name} must be an 81-tryte address")
    return value


# -- signatures -----------------------------------------------------------------


def sign(key: Ed25519PrivateKey, body: dict[str, Any]) -> dict[str, Any]:
    """``{"body": body, "sig": base64}``: Ed25519 over the canonical body."""
    return {"body": body, "sig": base64.b64encode(key.sign(canonical(body))).decode()}


@functools.lru_cache(maxsize=1024)
def _public_key(pubkey_hex: str) -> Ed25519PublicKey:
    # A node checks every payment of a channel against the same key: parse it once.
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(pubkey_hex))


def verify(pubkey_hex: str, envelope: Any) -> dict[str, Any] | None:
    """The body of ``envelope`` if ``pubkey_hex`` signed it, else None (never raises)."""
    if not isinstance(envelope, dict) or set(envelope) != {"body", "sig"}:
        return None
    body, sig = envelope["body"], envelope["sig"]
    if not isinstance(body, dict) or not isinstance(sig, str) or len(sig) > 100:
        return None
    try:
        signature = base64.b64decode(sig, validate=True)
        _public_key(pubkey_hex).verify(signature, canonical(body))
    except (InvalidSignature, ValueError, TypeError):
        return None
    return body


# -- definition and escrow --------------------------------------------------------


@dataclass(frozen=True)
class PartyDef:
    address: str  # default payout address (81 trytes)
    pubkey: str  # Ed25519 public key, 64 lowercase hex

    def to_json(self) -> dict[str, str]:
        return {"address": self.address, "pubkey": self.pubkey}


@dataclass(frozen=True)
class ChannelDefinition:
    a: PartyDef
    b: PartyDef
    timeout: int
    salt: str

    def __post_init__(self) -> None:
        for name, party in (("a", self.a), ("b", self.b)):
            checked_address(party.address, f"{name}.address")
            if not isinstance(party.pubkey, str) or not _HEX64.match(party.pubkey):
                raise RuleError(f"{name}.pubkey must be 64 lowercase hex characters")
        if self.a.pubkey == self.b.pubkey:
            raise RuleError("a and b must have different keys")
        t = self.timeout
        if isinstance(t, bool) or not isinstance(t, int) or not 1 <= t <= MAX_TIMEOUT:
            raise RuleError(f"timeout must be an integer between 1 and {MAX_TIMEOUT} seconds")
        if not isinstance(self.salt, str) or not _SALT.match(self.salt):
            raise RuleError("salt must be 1-64 characters of [0-9A-Za-z_-]")

    def to_json(self) -> dict[str, Any]:
        return {
            "a": self.a.to_json(),
            "b": self.b.to_json(),
            "timeout": self.timeout,
            "salt": self.salt,
        }

    @classmethod
    def from_json(cls, data: Any) -> ChannelDefinition:
        if not isinstance(data, dict) or set(data) != {"a", "b", "timeout", "salt"}:
            raise RuleError("a definition is an object with exactly a, b, timeout, salt")
        parties = []
        for name in ("a", "b"):
            part = data[name]
            if not isinstance(part, dict) or set(part) != {"address", "pubkey"}:
                raise RuleError(f"{name} must be an object with exactly address, pubkey")
            parties.append(PartyDef(part["address"], part["pubkey"]))
        return cls(parties[0], parties[1], data["timeout"], data["salt"])

    @property
    def channel_id(self) -> str:
        return hashlib.sha256(canonical(self.to_json())).hexdigest()

    def party(self, who: Party) -> PartyDef:
        return self.a if who == "A" else self.b

    def role_of(self, pubkey: str) -> Party | None:
        if pubkey == self.a.pubkey:
            return "A"
        if pubkey == self.b.pubkey:
            return "B"
        return None


def escrow_seed(secret: bytes, channel_id: str, period: int) -> str:
    """The 81-tryte seed whose key index 0 is the escrow of (channel, period).

    HMAC-SHA-384 keyed by the agent's secret; each tryte takes 8 bits of it (27
    values from 256: the bias is irrelevant for a WOTS seed made of 48 secret bytes).
    """
    if not secret:
        raise RuleError("the agent secret is empty")
    digest = b""
    counter = 0
    while len(digest) < 81:
        digest += hmac.new(
            secret, f"channel-escrow/v1/{channel_id}/{period}/{counter}".encode(), hashlib.sha384
        ).digest()
        counter += 1
    return "".join(_TRYTE_ALPHABET[b % 27] for b in digest[:81])


# -- events -----------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    """The confirming milestone: its index orders events, its timestamp is the time."""

    milestone: int
    timestamp: int


@dataclass(frozen=True)
class Deposit:
    """Value confirmed on a period's escrow, with the signed deposit command if any."""

    period: int
    value: int
    command: dict[str, Any] | None = None  # signed envelope found in the same bundle


@dataclass(frozen=True)
class Command:
    """A zero-value command transaction's message: a signed envelope (already parsed JSON)."""

    envelope: Any


@dataclass(frozen=True)
class Settlement:
    """What the period's escrow pays out, once, in one bundle."""

    channel_id: str
    period: int
    outputs: tuple[tuple[str, int], ...]  # (address, value), value > 0, merged per address
    reason: str
    milestone: int

    @property
    def total(self) -> int:
        return sum(value for _, value in self.outputs)

    def to_json(self) -> dict[str, Any]:
        return {
            "channel_id": self.channel_id,
            "period": self.period,
            "outputs": [list(o) for o in self.outputs],
            "reason": self.reason,
            "milestone": self.milestone,
        }


@dataclass(frozen=True)
class Outcome:
    accepted: bool
    reason: str
    settlement: Settlement | None = None


Status = Literal["open", "closing"]


@dataclass(frozen=True)
class ChannelState:
    """One channel's current period (the previous periods are settled)."""

    definition: ChannelDefinition
    period: int = 1
    status: Status = "open"
    deposits: dict[str, int] = field(default_factory=lambda: {"A": 0, "B": 0})
    refunds: dict[str, int] = field(default_factory=lambda: {"A": 0, "B": 0})
    stray: int = 0
    payout: dict[str, str] = field(default_factory=dict)  # addresses named this period
    initiator: Party | None = None
    spent: dict[str, int] = field(default_factory=dict)  # claims made by the close
    close_timestamp: int | None = None
    last_milestone: int = 0
    # Settlements of earlier periods whose bundle is not issued yet (late deposits join).
    pending: tuple[Settlement, ...] = ()
    issued: tuple[int, ...] = ()  # periods whose escrow has been spent (at most once each)

    @property
    def channel_id(self) -> str:
        return self.definition.channel_id

    @property
    def total(self) -> int:
        return self.deposits["A"] + self.deposits["B"]

    def payout_address(self, who: Party) -> str:
        return self.payout.get(who, self.definition.party(who).address)

    def to_json(self) -> dict[str, Any]:
        return {
            "definition": self.definition.to_json(),
            "period": self.period,
            "status": self.status,
            "deposits": dict(self.deposits),
            "refunds": dict(self.refunds),
            "stray": self.stray,
            "payout": dict(self.payout),
            "initiator": self.initiator,
            "spent": dict(self.spent),
            "close_timestamp": self.close_timestamp,
            "last_milestone": self.last_milestone,
            "pending": [s.to_json() for s in self.pending],
            "issued": list(self.issued),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChannelState:
        return cls(
            definition=ChannelDefinition.from_json(data["definition"]),
            period=data["period"],
            status=data["status"],
            deposits=dict(data["deposits"]),
            refunds=dict(data["refunds"]),
            stray=data["stray"],
            payout=dict(data["payout"]),
            initiator=data["initiator"],
            spent=dict(data["spent"]),
            close_timestamp=data["close_timestamp"],
            last_milestone=data["last_milestone"],
            pending=tuple(
                Settlement(
                    s["channel_id"],
                    s["period"],
                    tuple((a, v) for a, v in s["outputs"]),
                    s["reason"],
                    s["milestone"],
                )
                for s in data["pending"]
            ),
            issued=tuple(data["issued"]),
        )
