"""The channel agent's rules: a pure, deterministic state machine (seed 003's AA, fixed).

Nothing here touches a network, a database or the local clock. The agent feeds it
events read from milestone-confirmed transactions, in milestone order, together with
the confirming milestone (its index and timestamp): that milestone is the only clock.

A channel is defined by party A's and party B's payout address and Ed25519 public key,
a timeout (seconds) and a salt. Its id is the SHA-256 of the canonical definition. For
every period the agent derives a fresh escrow address from the id, the period and its
own secret (a WOTS address: spent exactly once, by the period's payout bundle).

Events, per period:

* ``Deposit``: a value transfer to the period's escrow. A deposit is attributed to a
  party by a ``deposit`` command signed by that party in the same bundle; value without
  one is "stray" and split evenly at settlement. While closing, a deposit is refunded
  in full with the payout; after the payout was issued it is stranded (logged).
* ``close`` (by a party: the amount it paid, optionally the peer's last signed payment
  package): records both claims and the milestone time.
* ``confirm``: by the peer at once, by the initiator only once ``timeout`` seconds of
  milestone time have passed. It settles: each side gets
  ``deposited - paid to the peer + received from the peer`` (clamped to the total).
* ``fraud_proof``: only by the initiator's peer, only before confirmation, with a
  package signed by the initiator for this channel and period showing more spent than
  the initiator claimed. It settles: everything to the peer. (The original AA let
  anybody, the initiator included, submit one: the initiator could close, then "prove"
  itself wrong with a package it signed itself and take the whole channel.)

Anything malformed, unsigned, signed by somebody else, for another channel or period,
or out of order is refused with a reason (the agent logs it) and changes nothing.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "PARTIES",
    "ChannelDefinition",
    "ChannelState",
    "Clock",
    "Command",
    "Deposit",
    "Outcome",
    "PartyDef",
    "RuleError",
    "Settlement",
    "apply",
    "canonical",
    "deposit_command",
    "escrow_seed",
    "other",
    "payout_split",
    "sign",
    "verify",
]

Party = Literal["A", "B"]
PARTIES: tuple[Party, Party] = ("A", "B")
_TRYTES = re.compile(r"^[9A-Z]{81}$")
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


def _amount(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_AMOUNT:
        raise RuleError(f"{name} must be an integer between 0 and {MAX_AMOUNT}")
    return value


def _address(value: Any, name: str) -> str:
    if not isinstance(value, str) or not _TRYTES.match(value):
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
            _address(party.address, f"{name}.address")
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


# -- the rules -----------------------------------------------------------------------


def payout_split(deposits: dict[str, int], spent: dict[str, int]) -> tuple[int, int]:
    """(A, B): each gets deposited - paid to the peer + received from the peer.

    A's share is clamped to [0, total] and B gets the rest, so the escrow always pays
    out exactly what it holds, even when a party claims nonsense about itself.
    """
    total = deposits["A"] + deposits["B"]
    share_a = deposits["A"] - spent.get("A", 0) + spent.get("B", 0)
    share_a = min(max(share_a, 0), total)
    return share_a, total - share_a


def _merge(outputs: list[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    merged: dict[str, int] = {}
    for address, value in outputs:
        if value > 0:
            merged[address] = merged.get(address, 0) + value
    return tuple(sorted(merged.items()))


def _settle(
    state: ChannelState, shares: dict[str, int], reason: str, clock: Clock
) -> tuple[ChannelState, Settlement]:
    """Close the period: its settlement goes to ``pending``, the next period opens empty."""
    outputs: list[tuple[str, int]] = []
    half = state.stray // 2
    extra = {"A": half, "B": state.stray - half}
    for who in PARTIES:
        value = shares[who] + state.refunds[who] + extra[who]
        outputs.append((state.payout_address(who), value))
    settlement = Settlement(
        state.channel_id, state.period, _merge(outputs), reason, clock.milestone
    )
    fresh = ChannelState(
        definition=state.definition,
        period=state.period + 1,
        last_milestone=clock.milestone,
        pending=(*state.pending, settlement),
        issued=state.issued,
    )
    return fresh, settlement


def _payment_body(
    state: ChannelState, envelope: Any, payer: Party, period: int
) -> dict[str, Any] | None:
    """The body of a payment package signed by ``payer`` for this channel and ``period``."""
    body = verify(state.definition.party(payer).pubkey, envelope)
    if body is None:
        return None
    if (
        body.get("type") != "payment"
        or body.get("channel") != state.channel_id
        or body.get("period") != period
        or body.get("payer") != payer
    ):
        return None
    try:
        _amount(body.get("amount_spent"), "amount_spent")
    except RuleError:
        return None
    return body


def _refuse(state: ChannelState, reason: str) -> tuple[ChannelState, Outcome]:
    return state, Outcome(False, reason)


def apply(
    state: ChannelState, event: Deposit | Command, clock: Clock
) -> tuple[ChannelState, Outcome]:
    """The channel after ``event`` confirmed by milestone ``clock``; never raises on input."""
    if clock.milestone < state.last_milestone:
        return _refuse(state, "out_of_order")
    if isinstance(event, Deposit):
        return _deposit(state, event, clock)
    return _command(state, event.envelope, clock)


def _signed_by(state: ChannelState, envelope: Any) -> tuple[Party, dict[str, Any]] | None:
    if not isinstance(envelope, dict) or not isinstance(envelope.get("body"), dict):
        return None
    who = envelope["body"].get("party")
    if who not in PARTIES:
        return None
    body = verify(state.definition.party(who).pubkey, envelope)
    return (who, body) if body is not None else None


def _with_payout(state: ChannelState, who: Party, body: dict[str, Any]) -> ChannelState:
    address = body.get("payout")
    if isinstance(address, str) and _TRYTES.match(address):
        return replace(state, payout={**state.payout, who: address})
    return state


def deposit_command(state: ChannelState, envelopes: Any, period: int) -> dict[str, Any] | None:
    """The first of ``envelopes`` that is a party's signed ``deposit`` for this channel and
    ``period``, else None. Each candidate is one transaction's message, read on its own: a
    stranger's transaction sharing the bundle hash can add candidates but never spoil one."""
    for envelope in envelopes:
        signed = _signed_by(state, envelope)
        if signed is None:
            continue
        _who, body = signed
        if (
            body.get("type") == "deposit"
            and body.get("channel") == state.channel_id
            and body.get("period") == period
        ):
            return dict(envelope)
    return None


def _deposit(state: ChannelState, event: Deposit, clock: Clock) -> tuple[ChannelState, Outcome]:
    if event.value <= 0:
        return _refuse(state, "not_a_deposit")
    who: Party | None = None
    body: dict[str, Any] | None = None
    signed = _signed_by(state, event.command) if event.command is not None else None
    if signed is not None:
        who, body = signed
        if (
            body.get("type") != "deposit"
            or body.get("channel") != state.channel_id
            or body.get("period") != event.period
        ):
            who, body = None, None
    if event.period < state.period:
        # The escrow of a settled period: join its payout if the bundle is not out yet.
        for index, settlement in enumerate(state.pending):
            if settlement.period == event.period:
                if who is not None and body is not None:
                    named = body.get("payout")
                    valid = isinstance(named, str) and _TRYTES.match(named)
                    address = named if valid else state.definition.party(who).address
                    extra = [(str(address), event.value)]
                else:
                    # Unattributed: split like stray value.
                    first = event.value // 2
                    extra = [
                        (state.definition.a.address, first),
                        (state.definition.b.address, event.value - first),
                    ]
                joined = replace(settlement, outputs=_merge([*settlement.outputs, *extra]))
                pending = (*state.pending[:index], joined, *state.pending[index + 1 :])
                return replace(state, pending=pending, last_milestone=clock.milestone), Outcome(
                    True, "late_deposit_refunded"
                )
        return replace(state, last_milestone=clock.milestone), Outcome(
            False, "stranded_on_spent_escrow"
        )
    if event.period > state.period:
        return _refuse(state, "wrong_period")
    state = replace(state, last_milestone=clock.milestone)
    if who is None:
        return replace(state, stray=state.stray + event.value), Outcome(True, "stray_deposit")
    assert body is not None
    if state.status == "closing":
        refunds = {**state.refunds, who: state.refunds[who] + event.value}
        return replace(state, refunds=refunds), Outcome(True, "deposit_refunded_while_closing")
    state = _with_payout(state, who, body)
    deposits = {**state.deposits, who: state.deposits[who] + event.value}
    return replace(state, deposits=deposits), Outcome(True, "deposit")


def _command(state: ChannelState, envelope: Any, clock: Clock) -> tuple[ChannelState, Outcome]:
    signed = _signed_by(state, envelope)
    if signed is None:
        return _refuse(state, "not_signed_by_a_party")
    who, body = signed
    kind = body.get("type")
    if body.get("channel") != state.channel_id:
        return _refuse(state, "wrong_channel")
    if body.get("period") != state.period:
        return _refuse(state, "wrong_period")
    if kind == "close":
        return _close(state, who, body, clock)
    if kind == "confirm":
        return _confirm(state, who, body, clock)
    if kind == "fraud_proof":
        return _fraud_proof(state, who, body, clock)
    return _refuse(state, "unknown_command")


def _close(
    state: ChannelState, who: Party, body: dict[str, Any], clock: Clock
) -> tuple[ChannelState, Outcome]:
    if state.status != "open":
        return _refuse(state, "already_closing")
    try:
        mine = _amount(body.get("spent"), "spent")
    except RuleError:
        return _refuse(state, "malformed_spent")
    peer = other(who)
    theirs = 0
    if body.get("peer_package") is not None:
        package = _payment_body(state, body["peer_package"], peer, state.period)
        if package is None:
            return _refuse(state, "bad_peer_package")
        theirs = package["amount_spent"]
    state = _with_payout(state, who, body)
    return replace(
        state,
        status="closing",
        initiator=who,
        spent={who: mine, peer: theirs},
        close_timestamp=clock.timestamp,
        last_milestone=clock.milestone,
    ), Outcome(True, "close")


def _confirm(
    state: ChannelState, who: Party, body: dict[str, Any], clock: Clock
) -> tuple[ChannelState, Outcome]:
    if state.status != "closing" or state.close_timestamp is None:
        return _refuse(state, "not_closing")
    if who == state.initiator:
        if clock.timestamp < state.close_timestamp + state.definition.timeout:
            return _refuse(state, "too_early")
        reason = "confirmed_after_timeout"
    else:
        reason = "confirmed_by_peer"
    state = _with_payout(state, who, body)
    share_a, share_b = payout_split(state.deposits, state.spent)
    fresh, settlement = _settle(state, {"A": share_a, "B": share_b}, reason, clock)
    return fresh, Outcome(True, reason, settlement)


def _fraud_proof(
    state: ChannelState, who: Party, body: dict[str, Any], clock: Clock
) -> tuple[ChannelState, Outcome]:
    if state.status != "closing" or state.initiator is None:
        return _refuse(state, "not_closing")
    initiator = state.initiator
    if who == initiator:
        # The original's defect: the closing party proving itself "wrong" to take it all.
        return _refuse(state, "initiator_cannot_prove_fraud")
    package = _payment_body(state, body.get("peer_package"), initiator, state.period)
    if package is None:
        return _refuse(state, "bad_peer_package")
    if package["amount_spent"] <= state.spent.get(initiator, 0):
        return _refuse(state, "no_fraud")
    state = _with_payout(state, who, body)
    shares: dict[str, int] = {who: state.total, initiator: 0}
    fresh, settlement = _settle(state, shares, "fraud_proof", clock)
    return fresh, Outcome(True, "fraud_proof", settlement)


def mark_issued(state: ChannelState, period: int) -> ChannelState:
    """The payout bundle of ``period`` is signed: no deposit joins it any more.

    Raises RuleError if that escrow was already spent or has nothing pending: the
    escrow of a period is spent once.
    """
    if period in state.issued:
        raise RuleError(f"the escrow of period {period} was already spent")
    if not any(s.period == period for s in state.pending):
        raise RuleError(f"period {period} has no pending settlement")
    return replace(
        state,
        pending=tuple(s for s in state.pending if s.period != period),
        issued=(*state.issued, period),
    )


__all__ += ["mark_issued"]
