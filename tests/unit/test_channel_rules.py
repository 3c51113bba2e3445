"""The channel agent's state machine (shared/channels/rules.py) with an injected clock."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.channels.rules import (
    ChannelDefinition,
    ChannelState,
    Clock,
    Command,
    Deposit,
    PartyDef,
    RuleError,
    apply,
    escrow_seed,
    mark_issued,
    payout_split,
    sign,
)

ADDR_A = "A" * 80 + "9"
ADDR_B = "B" * 80 + "9"
ADDR_A2 = "C" * 80 + "9"
TIMEOUT = 60


def _pub(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


class FakeClock:
    """Milestones every ``step`` seconds; ``advance`` jumps time forward."""

    def __init__(self, start: int = 1_700_000_000, step: int = 1) -> None:
        self.index = 0
        self.now = start
        self.step = step

    def tick(self) -> Clock:
        self.index += 1
        self.now += self.step
        return Clock(self.index, self.now)

    def advance(self, seconds: int) -> None:
        self.now += seconds


class World:
    def __init__(self) -> None:
        self.keys = {"A": Ed25519PrivateKey.generate(), "B": Ed25519PrivateKey.generate()}
        self.mallory = Ed25519PrivateKey.generate()
        self.definition = ChannelDefinition(
            PartyDef(ADDR_A, _pub(self.keys["A"])),
            PartyDef(ADDR_B, _pub(self.keys["B"])),
            TIMEOUT,
            "salt1",
        )
        self.state = ChannelState(self.definition)
        self.clock = FakeClock()
        self.outcomes: list[Any] = []

    @property
    def cid(self) -> str:
        return self.definition.channel_id

    def feed(self, event: Deposit | Command) -> Any:
        self.state, outcome = apply(self.state, event, self.clock.tick())
        self.outcomes.append(outcome)
        return outcome

    def deposit(self, who: str, value: int, period: int | None = None, **extra: Any) -> Any:
        period = self.state.period if period is None else period
        body = {"type": "deposit", "channel": self.cid, "period": period, "party": who, **extra}
        return self.feed(Deposit(period, value, sign(self.keys[who], body)))

    def package(self, signer: str, spent: int, seq: int, **over: Any) -> dict[str, Any]:
        body = {
            "type": "payment",
            "channel": self.cid,
            "period": self.state.period,
            "payer": signer,
            "amount_spent": spent,
            "payment_amount": 1,
            "seq": seq,
            **over,
        }
        return sign(self.keys[signer], body)

    def command(self, who: str, kind: str, key: Ed25519PrivateKey | None = None, **extra: Any):
        body = {"type": kind, "channel": self.cid, "period": self.state.period, "party": who}
        body.update(extra)
        return self.feed(Command(sign(key or self.keys[who], body)))


@pytest.fixture
def w() -> World:
    world = World()
    assert world.deposit("A", 1000).reason == "deposit"
    assert world.deposit("B", 500).reason == "deposit"
    return world


def test_honest_close_confirmed_by_peer(w: World) -> None:
    # A paid B 300 in total, B paid A 100; A closes with B's last package.
    assert w.command("A", "close", spent=300, peer_package=w.package("B", 100, 7)).accepted
    assert w.state.status == "closing"
    out = w.command("B", "confirm")
    assert out.accepted and out.reason == "confirmed_by_peer"
    assert dict(out.settlement.outputs) == {ADDR_A: 1000 - 300 + 100, ADDR_B: 500 - 100 + 300}
    assert out.settlement.total == 1500
    assert w.state.period == 2 and w.state.status == "open" and w.state.total == 0


def test_initiator_confirm_refused_before_timeout_accepted_after(w: World) -> None:
    w.command("A", "close", spent=200)
    w.clock.advance(TIMEOUT - 5)
    out = w.command("A", "confirm")
    assert not out.accepted and out.reason == "too_early"
    assert w.state.status == "closing"
    w.clock.advance(5)
    out = w.command("A", "confirm")
    assert out.accepted and out.reason == "confirmed_after_timeout"
    # B never showed up: it gets its deposit plus what A paid it; A the rest.
    assert dict(out.settlement.outputs) == {ADDR_A: 800, ADDR_B: 700}


def test_understated_claim_beaten_by_fraud_proof(w: World) -> None:
    evidence = w.package("A", 400, 12)  # B holds A's package: A spent 400
    assert w.command("A", "close", spent=100).accepted  # A claims 100
    out = w.command("B", "fraud_proof", peer_package=evidence)
    assert out.accepted and out.reason == "fraud_proof"
    assert dict(out.settlement.outputs) == {ADDR_B: 1500}


def test_fraud_proof_needs_more_than_claimed(w: World) -> None:
    evidence = w.package("A", 100, 3)
    w.command("A", "close", spent=100)
    out = w.command("B", "fraud_proof", peer_package=evidence)
    assert not out.accepted and out.reason == "no_fraud"
    assert w.state.status == "closing"


def test_initiator_own_fraud_proof_refused(w: World) -> None:
    # The original AA's defect: the initiator closes, then "proves" itself wrong with a
    # package it signed itself and takes everything.
    w.command("A", "close", spent=0)
    own = w.package("A", 900, 99)
    out = w.command("A", "fraud_proof", peer_package=own)
    assert not out.accepted and out.reason == "initiator_cannot_prove_fraud"
    assert w.state.status == "closing" and w.state.pending == ()


def test_third_party_commands_ignored(w: World) -> None:
    before = w.state
    # Mallory signs a close claiming to be A: the signature does not match A's key.
    out = w.command("A", "close", key=w.mallory, spent=0)
    assert not out.accepted and out.reason == "not_signed_by_a_party"
    w.command("A", "close", spent=100)
    closing = w.state
    evidence = w.package("A", 400, 12)
    for who in ("A", "B", "C"):
        out = w.command(who, "fraud_proof", key=w.mallory, peer_package=evidence)
        assert not out.accepted
    out = w.command("B", "confirm", key=w.mallory)
    assert not out.accepted
    assert w.state == closing and before.status == "open"


@pytest.mark.parametrize(
    "change",
    [{"channel": "0" * 64}, {"period": 2}, {"payer": "B"}],
    ids=["other-channel", "other-period", "other-payer"],
)
def test_package_for_another_channel_or_period_refused(w: World, change: dict[str, Any]) -> None:
    w.command("A", "close", spent=100)
    out = w.command("B", "fraud_proof", peer_package=w.package("A", 900, 5, **change))
    assert not out.accepted and out.reason == "bad_peer_package"
    # The same mistake in a close is refused too.
    w2 = World()
    w2.deposit("A", 10)
    bad = w2.package("B", 5, 1, **{"payer": "A"} if "payer" in change else change)
    assert w2.command("A", "close", spent=0, peer_package=bad).reason == "bad_peer_package"


def test_lower_total_is_no_fraud(w: World) -> None:
    w.command("A", "close", spent=500)
    out = w.command("B", "fraud_proof", peer_package=w.package("A", 499, 30))
    assert not out.accepted and out.reason == "no_fraud"


def test_commands_for_another_period_or_channel_ignored(w: World) -> None:
    out = w.command("A", "close", spent=0, period=5)
    assert out.reason == "wrong_period"
    out = w.command("A", "close", spent=0, channel="f" * 64)
    assert out.reason == "wrong_channel"
    assert w.state.status == "open"


def test_deposit_while_closing_refunded(w: World) -> None:
    w.command("A", "close", spent=0)
    assert w.deposit("B", 250).reason == "deposit_refunded_while_closing"
    assert w.state.deposits == {"A": 1000, "B": 500}
    out = w.command("B", "confirm")
    assert dict(out.settlement.outputs) == {ADDR_A: 1000, ADDR_B: 500 + 250}


def test_late_deposit_joins_unissued_payout_then_strands(w: World) -> None:
    w.command("A", "close", spent=0)
    w.command("B", "confirm")
    assert w.deposit("A", 40, period=1).reason == "late_deposit_refunded"
    assert dict(w.state.pending[0].outputs)[ADDR_A] == 1040
    w.state = mark_issued(w.state, 1)
    out = w.deposit("A", 40, period=1)
    assert not out.accepted and out.reason == "stranded_on_spent_escrow"


def test_escrow_never_spent_twice(w: World) -> None:
    w.command("A", "close", spent=10)
    first = w.command("B", "confirm").settlement
    # Replayed confirm and fraud proof for the settled period: refused, no second payout.
    assert w.command("B", "confirm", period=1).reason == "wrong_period"
    assert w.command("B", "fraud_proof", period=1, peer_package=w.package("A", 99, 1)).reason
    assert [s.period for s in w.state.pending] == [1]
    w.state = mark_issued(w.state, 1)
    with pytest.raises(RuleError):
        mark_issued(w.state, 1)
    # The next period has its own escrow, derived from the same secret.
    secret = b"agent-secret"
    assert escrow_seed(secret, w.cid, 1) != escrow_seed(secret, w.cid, 2)
    assert escrow_seed(secret, w.cid, 1) == escrow_seed(secret, w.cid, 1)
    assert escrow_seed(b"other", w.cid, 1) != escrow_seed(secret, w.cid, 1)
    assert first.period == 1


def test_unsigned_deposit_is_stray_and_split(w: World) -> None:
    assert w.feed(Deposit(1, 11, None)).reason == "stray_deposit"
    w.command("A", "close", spent=0)
    out = w.command("B", "confirm")
    assert dict(out.settlement.outputs) == {ADDR_A: 1005, ADDR_B: 506}


def test_payout_address_named_in_signed_command(w: World) -> None:
    w.command("A", "close", spent=0, payout=ADDR_A2)
    out = w.command("B", "confirm")
    assert dict(out.settlement.outputs) == {ADDR_A2: 1000, ADDR_B: 500}


def test_out_of_order_milestone_refused(w: World) -> None:
    body = {"type": "close", "channel": w.cid, "period": 1, "party": "A", "spent": 0}
    state, out = apply(w.state, Command(sign(w.keys["A"], body)), Clock(1, 0))
    assert not out.accepted and out.reason == "out_of_order" and state == w.state


@pytest.mark.parametrize(
    "envelope",
    [None, 5, "x", [], {"body": {}}, {"body": "x", "sig": "y"}, {"body": {"party": "A"}, "sig": 1}],
)
def test_malformed_commands_never_raise(w: World, envelope: Any) -> None:
    out = w.feed(Command(envelope))
    assert not out.accepted


def test_malformed_close_amount(w: World) -> None:
    for bad in (-1, "5", 1.5, True, None):
        assert w.command("A", "close", spent=bad).reason == "malformed_spent"


def test_payout_split_clamped_and_exact() -> None:
    assert payout_split({"A": 10, "B": 0}, {"A": 50, "B": 0}) == (0, 10)
    assert payout_split({"A": 10, "B": 5}, {"A": 0, "B": 50}) == (15, 0)
    assert payout_split({"A": 10, "B": 5}, {"A": 3, "B": 1}) == (8, 7)


def test_state_round_trips_through_json(w: World) -> None:
    w.command("A", "close", spent=3, peer_package=w.package("B", 1, 1))
    assert ChannelState.from_json(w.state.to_json()) == w.state


def test_definition_validation() -> None:
    good = World().definition.to_json()
    assert ChannelDefinition.from_json(good).to_json() == good
    for change in (
        {"timeout": 0},
        {"timeout": "5"},
        {"salt": ""},
        {"salt": "a b"},
        {"a": {"address": "x", "pubkey": good["a"]["pubkey"]}},
        {"b": {"address": ADDR_B, "pubkey": "zz"}},
        {"b": good["a"]},
        {"extra": 1},
    ):
        with pytest.raises(RuleError):
            ChannelDefinition.from_json({**good, **change})


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    envelope=_json
    | st.fixed_dictionaries(
        {"body": st.dictionaries(st.text(max_size=10), _json), "sig": st.text()}
    ),
    value=st.integers(min_value=-5, max_value=10**6),
)
def test_fuzzed_events_never_raise_nor_change_state_unsigned(
    w: World, envelope: Any, value: int
) -> None:
    before = w.state
    _state, out = apply(before, Command(envelope), Clock(before.last_milestone + 1, 1))
    assert not out.accepted and _state == before
    state, out = apply(before, Deposit(1, value, envelope), Clock(before.last_milestone + 1, 1))
    if value > 0:  # unsigned value is stray: counted, never credited to a party
        assert state.deposits == before.deposits and state.stray == before.stray + value
    else:
        assert not out.accepted and state == before
