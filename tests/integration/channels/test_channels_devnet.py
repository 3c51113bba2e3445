"""Payment channels end to end: two channel nodes (processes) and the agent on a real devnet.

The devnet issues a milestone every 0.5 s; the agent reads confirmed commands only.
Alice and Bob live for the whole module (starting a process is slow on a loaded
machine); every test opens its own channel and checks ledger balances as differences.
The last test kills Bob for good.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.channels.rules import sign
from shared.iota.wallet import Wallet
from tests.support.channels import ChannelProcess
from tests.support.devnet import DevnetProcess, random_seed

pytestmark = pytest.mark.timeout(900)

FUNDS = 100_000


@pytest.fixture(scope="module")
def pair(
    devnet: DevnetProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ChannelProcess, ChannelProcess]]:
    root = tmp_path_factory.mktemp("parties")
    with (
        ChannelProcess("alice", devnet, root / "alice") as alice,
        ChannelProcess("bob", devnet, root / "bob") as bob,
    ):
        alice.fund(FUNDS)
        bob.fund(FUNDS)
        yield alice, bob


def _open(alice: ChannelProcess, bob: ChannelProcess, a: int, b: int, timeout: int) -> str:
    cid = alice.create(bob, a, timeout)
    alice.wait(cid, lambda s: s["amount_deposited_by_me"] == a and s["status"] == "open")
    if b:
        bob.call("POST", f"/channels/{cid}/deposit", json={"amount": b})
    for party, mine, theirs in ((alice, a, b), (bob, b, a)):
        party.wait(
            cid,
            lambda s, m=mine, t=theirs: (
                s["amount_deposited_by_me"] == m and s["amount_deposited_by_peer"] == t
            ),
        )
    return cid


def _pay(payer: ChannelProcess, cid: str, amount: int, message: Any) -> None:
    answer = payer.call("POST", f"/channels/{cid}/pay", json={"amount": amount, "message": message})
    assert answer == {"response": {"received": amount, "message": message}}, answer


def _pay_many(payer: ChannelProcess, cid: str, count: int, amount: int, errors: list[str]) -> None:
    try:
        for i in range(count):
            _pay(payer, cid, amount, {"n": i, "from": payer.name})
    except BaseException as error:  # reported by the test thread
        errors.append(f"{payer.name}: {error!r}")


def _settled(period: int) -> Any:
    return lambda s: (
        s["period"] == period + 1
        and any(p["period"] == period and p["submitted"] for p in s["settlements"])
    )


def _wait_balance(party: ChannelProcess, expected: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if party.balance() == expected:
            return
        time.sleep(0.3)
    raise AssertionError(f"{party.name} holds {party.balance()}, expected {expected}")


def test_thousand_payments_each_way_then_cooperative_close(
    pair: tuple[ChannelProcess, ChannelProcess],
) -> None:
    alice, bob = pair
    before = alice.balance(), bob.balance()
    cid = _open(alice, bob, 5000, 3000, timeout=120)
    errors: list[str] = []
    threads = [
        threading.Thread(target=_pay_many, args=(alice, cid, 1000, 3, errors)),
        threading.Thread(target=_pay_many, args=(bob, cid, 1000, 2, errors)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    assert not errors, errors
    a, b = alice.status(cid), bob.status(cid)
    assert (a["amount_spent_by_me"], a["amount_spent_by_peer"]) == (3000, 2000)
    assert (b["amount_spent_by_me"], b["amount_spent_by_peer"]) == (2000, 3000)
    assert a["my_payments_count"] == a["peer_payments_count"] == 1000
    assert a["my_payments_unanswered"] == b["my_payments_unanswered"] == 0
    assert a["free_amount"] == 5000 - 3000 + 2000

    alice.call("POST", f"/channels/{cid}/close")
    # Bob's watcher sees Alice's honest claim and confirms at once (the timeout is 120 s).
    a = alice.wait(cid, _settled(1), timeout=60)
    bob.wait(cid, _settled(1), timeout=30)
    assert a["settlements"][0]["reason"] == "confirmed_by_peer"
    # Each ends with exactly: deposited - paid to the peer + received from the peer.
    _wait_balance(alice, before[0] - 3000 + 2000)
    _wait_balance(bob, before[1] - 2000 + 3000)


def test_party_killed_mid_stream_resumes_with_same_balances(
    pair: tuple[ChannelProcess, ChannelProcess],
) -> None:
    alice, bob = pair
    cid = _open(alice, bob, 3000, 0, timeout=120)
    for victim in (alice, bob):  # the payer, then the receiver
        errors: list[str] = []
        thread = threading.Thread(target=_pay_many, args=(alice, cid, 10_000, 1, errors))
        thread.start()
        deadline = time.monotonic() + 120
        while bob.status(cid)["peer_payments_count"] < 50 and time.monotonic() < deadline:
            time.sleep(0.05)
        victim.kill()  # SIGKILL in the middle of the stream
        thread.join(60)
        assert errors, "the stream should have been cut"
        victim.start()
        # The next payment first delivers any package left unanswered, then its own.
        _pay(alice, cid, 1, "after restart")
        a, b = alice.status(cid), bob.status(cid)
        assert a["amount_spent_by_me"] == b["amount_spent_by_peer"]
        assert a["my_payments_count"] == b["peer_payments_count"]
        assert a["my_payments_unanswered"] == 0
        assert a["free_amount"] + b["free_amount"] == 3000


def _send_command(devnet: DevnetProcess, tmp: Path, escrow: str, envelope: Any) -> None:
    """A zero-value command transaction, from any wallet (commands need no funds)."""
    wallet = Wallet(random_seed(), devnet.api_url, f"sqlite:///{tmp}/cmd.db")
    try:
        result = wallet.send(
            0, escrow, tag="CHANNEL9CMD", message=json.dumps(envelope, separators=(",", ":"))
        )
        assert wallet.wait_until_confirmed(result.tail_hash, timeout=60)
    finally:
        wallet.close()


def test_dishonest_close_beaten_by_fraud_proof(
    pair: tuple[ChannelProcess, ChannelProcess], devnet: DevnetProcess, tmp_path: Path
) -> None:
    alice, bob = pair
    before = bob.balance()
    cid = _open(alice, bob, 4000, 1000, timeout=120)
    for i in range(20):
        _pay(alice, cid, 50, i)  # Alice spent 1000; Bob holds her package saying so
    agent = alice.agent(cid)
    # A stranger's command, posing as Bob, is ignored.
    stranger = {"type": "close", "channel": cid, "period": 1, "party": "B", "spent": 0}
    _send_command(devnet, tmp_path, agent["escrow"], sign(Ed25519PrivateKey.generate(), stranger))
    # Alice closes claiming she paid nothing (signed with her own key); Bob's watcher
    # answers with the fraud proof (her package saying 1000).
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(alice.key))
    body = {"type": "close", "channel": cid, "period": 1, "party": "A", "spent": 0}
    _send_command(devnet, tmp_path, agent["escrow"], sign(key, body))
    state = bob.wait(cid, _settled(1), timeout=90)
    assert state["settlements"][0]["reason"] == "fraud_proof"
    assert state["settlements"][0]["outputs"][0][1] == 5000
    events = alice.agent(cid)["events"]
    assert any(e["reason"] == "not_signed_by_a_party" for e in events), events
    # Bob gets everything in the channel: his 1000 back and Alice's 4000.
    _wait_balance(bob, before + 4000)


def test_vanished_peer_funds_returned_after_timeout(
    pair: tuple[ChannelProcess, ChannelProcess],
) -> None:
    alice, bob = pair
    before = alice.balance()
    cid = _open(alice, bob, 4000, 0, timeout=3)
    for i in range(5):
        _pay(alice, cid, 100, i)
    bob.kill()  # gone for good
    alice.call("POST", f"/channels/{cid}/close")
    state = alice.wait(cid, _settled(1), timeout=90)
    assert state["settlements"][0]["reason"] == "confirmed_after_timeout"
    _wait_balance(alice, before - 500)
