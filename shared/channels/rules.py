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

from dataclasses import replace
from typing import Any

from shared.channels.terms import (
    MAX_AMOUNT,
    MAX_TIMEOUT,
    PARTIES,
    TRYTES,
    ChannelDefinition,
    ChannelState,
    Clock,
    Command,
    Deposit,
    Outcome,
    Party,
    PartyDef,
    RuleError,
    Settlement,
    canonical,
    checked_amount,
    escrow_seed,
    other,
    sign,
    verify,
)

# The terms and state (shared/channels/terms.py) are named here too, where the agent, the
# node and the tests have always found them.
__all__ = [
    "MAX_AMOUNT",
    "MAX_TIMEOUT",
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
    "mark_issued",
    "other",
    "payout_split",
    "sign",
    "verify",
]

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
        checked_amount(body.get("amount_spent"), "amount_spent")
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
    if isinstance(address, str) and TRYTES.match(address):
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
                    valid = isinstance(named, str) and TRYTES.match(named)
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
        mine = checked_amount(body.get("spent"), "spent")
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
