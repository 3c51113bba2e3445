"""The channel agent on an in-process devnet ledger (no HTTP, no ZMQ): commands from
confirmed transactions only, the payout bundle, and a crash between signing and attaching."""

from __future__ import annotations

import json
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
from shared.iota.signing import address_of
from shared.iota.text import text_to_trytes

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
