"""The channel agent on an in-process devnet ledger (no HTTP, no ZMQ): commands from
confirmed transactions only, the payout bundle, and a crash between signing and attaching."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from services.devnet.channel_agent import ChannelAgent
from services.devnet.coordinator import MilestoneCoordinator
from services.devnet.node import DevnetNode
from services.devnet.store import TangleStore
from services.devnet.tangle import Tangle
from shared.channels.rules import ChannelDefinition, PartyDef, sign
from shared.iota.bundle import TOTAL_SUPPLY, Input, Output, build_bundle
from shared.iota.pow import attach_bundle
from shared.iota.signing import address_of
from shared.iota.text import text_to_trytes
from shared.iota.transaction import parse_many

MWM = 3
RICH = "RICH9AGENT9SEED" + "9" * 66
COORDINATOR = "COORDINATOR9AGENT" + "9" * 64
ADDR_A = address_of("PAYOUT9A" + "9" * 73, 0, 2)
ADDR_B = address_of("PAYOUT9B" + "9" * 73, 0, 2)


class Devnet:
    def __init__(self, path: Path) -> None:
        tangle = Tangle(TangleStore(f"sqlite:///{path / 'tangle.sqlite'}"), MWM)
        tangle.open(lambda: {address_of(RICH, 0, 2): TOTAL_SUPPLY})
        self.node = DevnetNode(tangle, None, MWM)
        self.coordinator = MilestoneCoordinator(self.node, COORDINATOR, max_merges=4)
        self.rich_index = 0
        self.coordinator.issue()

    def send(self, address: str, value: int, message: Any = None) -> None:
        """A transfer (or a zero-value command) carrying ``message`` as JSON."""
        text = "" if message is None else json.dumps(message, separators=(",", ":"))
        output = Output(address, value, "CHANNEL9CMD", text_to_trytes(text))
        inputs = []
        remainder = None
        if value:
            source = address_of(RICH, self.rich_index, 2)
            balance = self.node.tangle.confirmed_balance(source)
            inputs = [Input(source, balance, RICH, self.rich_index, 2)]
            self.rich_index += 1
            remainder = address_of(RICH, self.rich_index, 2)
        trytes = build_bundle([output], inputs, remainder_address=remainder)
        self.node.attach_and_store(list(reversed(trytes)))
        if value:
            self.milestone()  # the remainder must be confirmed before the next spend

    def milestone(self) -> None:
        self.coordinator.issue()


def _pub(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


@pytest.fixture
def world(tmp_path: Path) -> Any:
    devnet = Devnet(tmp_path)
    keys = {"A": Ed25519PrivateKey.generate(), "B": Ed25519PrivateKey.generate()}
    definition = ChannelDefinition(
        PartyDef(ADDR_A, _pub(keys["A"])), PartyDef(ADDR_B, _pub(keys["B"])), 3600, "unit"
    )
    agent = ChannelAgent(devnet.node, "secret", f"sqlite:///{tmp_path}/agent.db", 10)
    return devnet, keys, definition, agent, tmp_path


def _cmd(keys: dict[str, Any], definition: Any, who: str, kind: str, **extra: Any) -> Any:
    body = {"type": kind, "channel": definition.channel_id, "period": 1, "party": who, **extra}
    return sign(keys[who], body)


def test_agent_settles_from_confirmed_commands_and_survives_a_crash_before_attach(
    world: Any,
) -> None:
    devnet, keys, definition, agent, tmp_path = world
    summary = agent.register(definition)
    escrow, cid = summary["escrow"], definition.channel_id
    assert agent.register(definition)["escrow"] == escrow  # idempotent

    devnet.send(escrow, 700, _cmd(keys, definition, "A", "deposit"))
    devnet.send(escrow, 300, _cmd(keys, definition, "B", "deposit"))
    devnet.send(escrow, 0, "not a command")
    devnet.milestone()
    agent.step()
    state = agent.summary(cid)
    assert state["deposits"] == {"A": 700, "B": 300}
    assert any(e["reason"] == "not_signed_by_a_party" for e in state["events"])

    package = sign(
        keys["B"],
        {
            "type": "payment",
            "channel": cid,
            "period": 1,
            "payer": "B",
            "amount_spent": 50,
            "payment_amount": 50,
            "seq": 1,
        },
    )
    devnet.send(escrow, 0, _cmd(keys, definition, "A", "close", spent=200, peer_package=package))
    agent.step()
    assert agent.summary(cid)["status"] == "open"  # not confirmed yet: not seen
    devnet.milestone()
    agent.step()
    assert agent.summary(cid)["status"] == "closing"

    # The payout is signed and stored, then the process "dies" before attaching it.
    devnet.send(escrow, 0, _cmd(keys, definition, "B", "confirm"))
    devnet.milestone()
    original = devnet.node.attach_and_store

    def crash(_trytes: Any, **_kw: Any) -> Any:
        raise RuntimeError("killed before attaching")

    devnet.node.attach_and_store = crash
    with pytest.raises(RuntimeError):
        agent.step()
    agent.close()
    devnet.node.attach_and_store = original
    assert escrow not in devnet.node.tangle.spent

    # A new agent on the same database attaches the same signed bundle, once.
    again = ChannelAgent(devnet.node, "secret", f"sqlite:///{tmp_path}/agent.db", 10)
    again.step()
    again.step()
    devnet.milestone()
    again.step()
    state = again.summary(cid)
    assert state["period"] == 2 and state["escrow"] != escrow
    assert len(state["payouts"]) == 1 and state["payouts"][0]["submitted"]
    assert state["payouts"][0]["reason"] == "confirmed_by_peer"
    balance = devnet.node.tangle.confirmed_balance
    assert balance(ADDR_A) == 700 - 200 + 50
    assert balance(ADDR_B) == 300 - 50 + 200
    assert balance(escrow) == 0 and escrow in devnet.node.tangle.spent
    # A deposit sent to the spent escrow now is stranded (logged), never paid again.
    devnet.send(escrow, 5, _cmd(keys, definition, "A", "deposit"))
    devnet.milestone()
    again.step()
    assert any(e["reason"] == "stranded_on_spent_escrow" for e in again.summary(cid)["events"])
    assert len(again.summary(cid)["payouts"]) == 1


def _attach_again(devnet: Devnet, trytes: list[str]) -> list[str]:
    """Attach an already-built bundle once more (new tips, new hashes: a reattachment)."""
    return devnet.node.attach_and_store(list(reversed(trytes)))


def _unattached(address: str, message: Any, *, tag: str = "CHANNEL9CMD", stamp: int) -> str:
    text = json.dumps(message, separators=(",", ":")) if not isinstance(message, str) else message
    return build_bundle([Output(address, 0, tag, text_to_trytes(text))], timestamp=stamp)[0]


def _with_message(trytes: str, text: str) -> str:
    """The same transaction (same essence, same bundle hash) with another message."""
    return text_to_trytes(text).ljust(2187, "9")[:2187] + trytes[2187:]


def test_reattached_deposit_counted_once(world: Any) -> None:
    devnet, keys, definition, agent, _tmp = world
    escrow, cid = agent.register(definition)["escrow"], definition.channel_id
    source = address_of(RICH, devnet.rich_index, 2)
    balance = devnet.node.tangle.confirmed_balance(source)
    text = json.dumps(_cmd(keys, definition, "A", "deposit"), separators=(",", ":"))
    trytes = build_bundle(
        [Output(escrow, 1000, "CHANNEL9CMD", text_to_trytes(text))],
        [Input(source, balance, RICH, devnet.rich_index, 2)],
        remainder_address=address_of(RICH, devnet.rich_index + 1, 2),
    )
    devnet.rich_index += 1
    devnet.node.attach_and_store(list(reversed(trytes)))
    _attach_again(devnet, trytes)  # both attachments confirmed by one milestone
    devnet.milestone()
    agent.step()
    assert agent.summary(cid)["deposits"] == {"A": 1000, "B": 0}
    _attach_again(devnet, trytes)  # and one confirmed by a later milestone
    devnet.milestone()
    agent.step()
    state = agent.summary(cid)
    assert state["deposits"] == {"A": 1000, "B": 0}
    assert devnet.node.tangle.confirmed_balance(escrow) == 1000
    assert any(e["reason"] == "already_counted" for e in state["events"]), state["events"]
    # The settlement pays exactly what the escrow holds.
    devnet.send(escrow, 0, _cmd(keys, definition, "A", "close", spent=0))
    devnet.milestone()
    agent.step()
    devnet.send(escrow, 0, _cmd(keys, definition, "B", "confirm"))
    devnet.milestone()
    agent.step()
    devnet.milestone()
    state = agent.summary(cid)
    assert state["period"] == 2 and state["payouts"][0]["submitted"], state
    assert devnet.node.tangle.confirmed_balance(ADDR_A) == 1000
    assert devnet.node.tangle.confirmed_balance(escrow) == 0


def test_junk_sharing_a_bundle_hash_never_spoils_a_command(world: Any) -> None:
    devnet, keys, definition, agent, _tmp = world
    escrow, cid = agent.register(definition)["escrow"], definition.channel_id
    devnet.send(escrow, 700, _cmd(keys, definition, "A", "deposit"))
    devnet.send(escrow, 300, _cmd(keys, definition, "B", "deposit"))
    devnet.send(escrow, 0, _cmd(keys, definition, "A", "close", spent=0))
    devnet.milestone()
    agent.step()
    assert agent.summary(cid)["status"] == "closing"
    package = sign(
        keys["A"],
        {
            "type": "payment",
            "channel": cid,
            "period": 1,
            "payer": "A",
            "amount_spent": 400,
            "payment_amount": 400,
            "seq": 1,
        },
    )
    stamp = int(time.time())
    honest = _unattached(
        escrow, _cmd(keys, definition, "B", "fraud_proof", peer_package=package), stamp=stamp
    )
    junk = _with_message(honest, "junk from a stranger")
    # Both in one attach: the junk approves the honest one, one milestone confirms both.
    trunk, branch = devnet.node.tangle.select_tips()
    devnet.node.store([*attach_bundle([junk], trunk, branch, MWM)])
    devnet.node.store([*attach_bundle([honest], trunk, branch, MWM)])
    devnet.milestone()
    agent.step()
    state = agent.summary(cid)
    assert state["period"] == 2, state["events"]
    assert state["payouts"][0]["reason"] == "fraud_proof", state["payouts"]
    reasons = [e["reason"] for e in state["events"]]
    assert "fraud_proof" in reasons and "not_signed_by_a_party" in reasons, reasons


def test_two_commands_sharing_a_bundle_hash_both_take_effect(world: Any) -> None:
    """The old wire form (tag CHANNEL9CMD, no nonce): two commands in the same second have
    the same bundle hash; both are read, each on its own, in attachment order."""
    devnet, keys, definition, agent, _tmp = world
    escrow, cid = agent.register(definition)["escrow"], definition.channel_id
    devnet.send(escrow, 500, _cmd(keys, definition, "A", "deposit"))
    devnet.milestone()
    agent.step()
    stamp = int(time.time())
    close = _unattached(escrow, _cmd(keys, definition, "A", "close", spent=100), stamp=stamp)
    confirm = _unattached(escrow, _cmd(keys, definition, "B", "confirm"), stamp=stamp)
    now = int(time.time() * 1000)
    trunk, branch = devnet.node.tangle.select_tips()
    first = attach_bundle([close], trunk, branch, MWM, now_ms=now + 1)
    tx = parse_many(first).transactions[0]
    second = attach_bundle([confirm], tx.hash, branch, MWM, now_ms=now + 2)
    assert parse_many(second).transactions[0].bundle == tx.bundle  # they collide
    devnet.node.store([*first, *second])
    devnet.milestone()
    agent.step()
    state = agent.summary(cid)
    assert state["period"] == 2, state["events"]
    reasons = [e["reason"] for e in state["events"]]
    assert "close" in reasons and "confirmed_by_peer" in reasons, reasons


def test_node_commands_carry_a_nonce() -> None:
    from shared.channels.node import COMMAND_TAG, command_transfer
    from shared.channels.rules import verify

    key = Ed25519PrivateKey.generate()
    body = {"type": "confirm", "channel": "c" * 64, "period": 1, "party": "A"}
    (tag1, msg1), (tag2, msg2) = command_transfer(key, body), command_transfer(key, body)
    assert tag1 != tag2 and tag1.startswith(COMMAND_TAG) and len(tag1) == 27
    one, two = json.loads(msg1), json.loads(msg2)
    assert verify(_pub(key), one) == {**body, "nonce": tag1[len(COMMAND_TAG) :]}
    assert one["sig"] != two["sig"]
    stamp = int(time.time())
    hashes = {
        parse_many(
            build_bundle([Output(ADDR_A, 0, tag, text_to_trytes(msg))], timestamp=stamp),
            with_hashes=False,
        )
        .transactions[0]
        .bundle
        for tag, msg in ((tag1, msg1), (tag2, msg2))
    }
    assert len(hashes) == 2


def test_peer_copying_my_deposit_with_its_own_message_does_not_take_it(world: Any) -> None:
    devnet, keys, definition, agent, _tmp = world
    escrow, cid = agent.register(definition)["escrow"], definition.channel_id
    source = address_of(RICH, devnet.rich_index, 2)
    balance = devnet.node.tangle.confirmed_balance(source)
    text = json.dumps(_cmd(keys, definition, "A", "deposit"), separators=(",", ":"))
    trytes = build_bundle(
        [Output(escrow, 1000, "CHANNEL9CMD", text_to_trytes(text))],
        [Input(source, balance, RICH, devnet.rich_index, 2)],
        remainder_address=address_of(RICH, devnet.rich_index + 1, 2),
    )
    devnet.rich_index += 1
    stored = parse_many(devnet.node.attach_and_store(list(reversed(trytes)))).transactions
    tail = next(tx for tx in stored if tx.current_index == 0)
    second = next(tx for tx in stored if tx.current_index == 1)
    # B copies the value transaction (same essence, same bundle) with its own signed
    # deposit message, and claims an earlier attachment time.
    theirs = json.dumps(_cmd(keys, definition, "B", "deposit"), separators=(",", ":"))
    copy = _with_message(trytes[0], theirs)
    devnet.node.store(attach_bundle([copy], second.hash, tail.branch, MWM, now_ms=1000))
    devnet.milestone()
    agent.step()
    assert agent.summary(cid)["deposits"] == {"A": 1000, "B": 0}
