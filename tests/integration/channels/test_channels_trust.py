"""Attacks on a channel with clients no one here wrote: PyOTA's ``replay_bundle`` on the
payer's deposit, a stranger's junk transaction sharing a fraud proof's bundle hash.

Real processes: the devnet (with the agent) and two channel nodes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from iota import Iota, TransactionHash, TryteString

from shared.channels.rules import sign
from shared.iota.bundle import Output, build_bundle
from shared.iota.pow import attach_bundle
from shared.iota.text import text_to_trytes
from shared.iota.transaction import parse_many
from tests.support.channels import ChannelProcess
from tests.support.devnet import DevnetProcess

pytestmark = pytest.mark.timeout(900)

DEPOSIT = 100_000


@pytest.fixture(scope="module")
def pair(
    devnet: DevnetProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ChannelProcess, ChannelProcess]]:
    root = tmp_path_factory.mktemp("trust")
    with (
        ChannelProcess("alice", devnet, root / "alice") as alice,
        ChannelProcess("bob", devnet, root / "bob") as bob,
    ):
        alice.fund(DEPOSIT)
        bob.fund(1000)
        yield alice, bob


def _transactions(devnet: DevnetProcess, **query: list[str]) -> list[Any]:
    hashes = devnet.command("findTransactions", 30.0, **query)["hashes"]
    trytes = devnet.command("getTrytes", hashes=hashes)["trytes"] if hashes else []
    return list(parse_many(trytes).transactions)


def _wait_agent_past(party: ChannelProcess, cid: str, milestone: int) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = party.agent(cid)
        if state["milestone"] > milestone:
            return state
        time.sleep(0.2)
    raise AssertionError(f"the agent did not pass milestone {milestone}")


def _package(key_hex: str, cid: str, spent: int, seq: int) -> dict[str, Any]:
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(key_hex))
    body = {
        "type": "payment",
        "channel": cid,
        "period": 1,
        "payer": "A",
        "amount_spent": spent,
        "payment_amount": spent,
        "seq": seq,
    }
    return sign(key, body)


def test_reattached_deposit_counted_once(
    pair: tuple[ChannelProcess, ChannelProcess], devnet: DevnetProcess
) -> None:
    alice, bob = pair
    bob_before = bob.balance()
    cid = alice.create(bob, DEPOSIT, timeout=120)
    alice.wait(cid, lambda s: s["amount_deposited_by_me"] == DEPOSIT and s["status"] == "open")
    escrow = alice.agent(cid)["escrow"]
    deposit = next(tx for tx in _transactions(devnet, addresses=[escrow]) if tx.value > 0)
    tail = next(
        tx.hash for tx in _transactions(devnet, bundles=[deposit.bundle]) if tx.current_index == 0
    )
    # Anybody can reattach any bundle: PyOTA, the real client, against our devnet.
    api = Iota(devnet.api_url)
    replayed = api.replay_bundle(TransactionHash(tail), depth=3, min_weight_magnitude=devnet.mwm)
    new_hashes = [tx.hash for tx in parse_many([str(t) for t in replayed["trytes"]]).transactions]
    assert tail not in new_hashes
    devnet.wait_confirmed(new_hashes, timeout=60)
    confirmed_at = devnet.command("getNodeInfo")["latestMilestoneIndex"]
    state = _wait_agent_past(alice, cid, confirmed_at)
    assert state["deposits"] == {"A": DEPOSIT, "B": 0}, state
    assert any(e["reason"] == "already_counted" for e in state["events"]), state["events"]
    balances = devnet.command("getBalances", addresses=[escrow], threshold=100)["balances"]
    assert int(balances[0]) == DEPOSIT
    time.sleep(1.5)  # a few watcher rounds: the nodes copy the agent's view
    assert alice.status(cid)["amount_deposited_by_me"] == DEPOSIT
    assert bob.status(cid)["amount_deposited_by_peer"] == DEPOSIT

    # A package beyond the escrow is refused by the receiver (signed by Alice's own key).
    over = httpx.post(
        f"{bob.peer_url}/pay",
        json={"package": _package(alice.key, cid, DEPOSIT + 1, 1), "message": None},
        timeout=30,
    )
    assert over.status_code == 409, over.text
    # ... and by the payer's own node.
    refused = alice.client.post(f"/channels/{cid}/pay", json={"amount": DEPOSIT + 1})
    assert refused.status_code == 409, refused.text
    paid = alice.call("POST", f"/channels/{cid}/pay", json={"amount": DEPOSIT, "message": 1})
    assert paid["response"]["received"] == DEPOSIT

    alice.call("POST", f"/channels/{cid}/close")
    settled = alice.wait(
        cid,
        lambda s: s["period"] == 2 and any(p["submitted"] for p in s["settlements"]),
        timeout=90,
    )
    outputs = settled["settlements"][0]["outputs"]
    assert sum(v for _a, v in outputs) == DEPOSIT  # the escrow, to the token
    deadline = time.monotonic() + 90
    while bob.balance() != bob_before + DEPOSIT and time.monotonic() < deadline:
        time.sleep(0.3)
    assert bob.balance() == bob_before + DEPOSIT
    balances = devnet.command("getBalances", addresses=[escrow], threshold=100)["balances"]
    assert int(balances[0]) == 0


def test_junk_sharing_the_fraud_proofs_bundle_hash_does_not_stop_it(
    pair: tuple[ChannelProcess, ChannelProcess], devnet: DevnetProcess, tmp_path: Path
) -> None:
    alice, bob = pair
    cid = bob.create(alice, 900, timeout=120)  # Bob is A here, Alice is B
    bob.wait(cid, lambda s: s["status"] == "open" and s["amount_deposited_by_me"] == 900)
    for i in range(3):
        bob.call("POST", f"/channels/{cid}/pay", json={"amount": 100, "message": i})
    escrow = bob.agent(cid)["escrow"]
    alice.kill()  # her watcher must not send its own fraud proof: ours is the only one
    try:
        bob_key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(bob.key))
        alice_key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(alice.key))
        api = Iota(devnet.api_url)

        def attach(*trytes: str) -> None:
            tips = devnet.command("getTransactionsToApprove", depth=3)
            done: list[str] = []
            trunk, branch = tips["trunkTransaction"], tips["branchTransaction"]
            for one in trytes:  # each approves the one before: one milestone confirms all
                done += attach_bundle([one], trunk, branch, devnet.mwm)
                trunk = parse_many(done[-1:]).transactions[0].hash
            api.broadcast_and_store([TryteString(t) for t in done])
            devnet.wait_confirmed([tx.hash for tx in parse_many(done).transactions], 60)

        def command(key: Ed25519PrivateKey, body: dict[str, Any]) -> str:
            text = json.dumps(sign(key, body), separators=(",", ":"))
            return build_bundle([Output(escrow, 0, "CHANNEL9CMD", text_to_trytes(text))])[0]

        # Bob closes claiming he paid nothing (dishonest: Alice holds his package for 300).
        attach(
            command(
                bob_key, {"type": "close", "channel": cid, "period": 1, "party": "A", "spent": 0}
            )
        )
        proof = command(
            alice_key,
            {
                "type": "fraud_proof",
                "channel": cid,
                "period": 1,
                "party": "B",
                "peer_package": sign(
                    bob_key,
                    {
                        "type": "payment",
                        "channel": cid,
                        "period": 1,
                        "payer": "A",
                        "amount_spent": 300,
                        "payment_amount": 100,
                        "seq": 3,
                    },
                ),
            },
        )
        junk = text_to_trytes("junk from a stranger").ljust(2187, "9") + proof[2187:]
        attach(junk, proof)  # same bundle hash, confirmed by the same milestone
        state = bob.wait(cid, lambda s: s["period"] == 2, timeout=60)
        assert state["settlements"][0]["reason"] == "fraud_proof", state
        events = bob.agent(cid)["events"]
        assert any(e["reason"] == "not_signed_by_a_party" for e in events), events
    finally:
        alice.start()
