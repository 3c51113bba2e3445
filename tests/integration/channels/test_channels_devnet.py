"""Payment channels end to end: two channel nodes (processes) and the agent on a real devnet."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.channels import ChannelProcess
from tests.support.devnet import DevnetProcess, devnet_fixture

pytestmark = pytest.mark.timeout(300)

FUNDS = 10_000


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevnetProcess]:
    with devnet_fixture(tmp_path_factory.mktemp("devnet"), milestone_interval=0.5) as node:
        yield node


@pytest.fixture
def pair(devnet: DevnetProcess, tmp_path: Path) -> Iterator[tuple[ChannelProcess, ChannelProcess]]:
    with (
        ChannelProcess("alice", devnet, tmp_path / "alice") as alice,
        ChannelProcess("bob", devnet, tmp_path / "bob") as bob,
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


def _pay_many(payer: ChannelProcess, cid: str, count: int, amount: int, errors: list[str]) -> None:
    try:
        for i in range(count):
            message = {"n": i, "from": payer.name}
            answer = payer.call(
                "POST", f"/channels/{cid}/pay", json={"amount": amount, "message": message}
            )
            assert answer == {"response": {"received": amount, "message": message}}, answer
    except BaseException as error:  # reported by the test thread
        errors.append(f"{payer.name}: {error!r}")


def _settled(state: dict[str, Any]) -> bool:
    return bool(state["settlements"]) and state["period"] == 2


def _wait_balance(party: ChannelProcess, expected: int, timeout: float = 60) -> None:
    import time

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
    cid = _open(alice, bob, 5000, 3000, timeout=60)
    errors: list[str] = []
    threads = [
        threading.Thread(target=_pay_many, args=(alice, cid, 1000, 3, errors)),
        threading.Thread(target=_pay_many, args=(bob, cid, 1000, 2, errors)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(240)
    assert not errors, errors
    a, b = alice.status(cid), bob.status(cid)
    assert (a["amount_spent_by_me"], a["amount_spent_by_peer"]) == (3000, 2000)
    assert (b["amount_spent_by_me"], b["amount_spent_by_peer"]) == (2000, 3000)
    assert a["my_payments_count"] == a["peer_payments_count"] == 1000
    assert a["free_amount"] == 5000 - 3000 + 2000

    alice.call("POST", f"/channels/{cid}/close")
    # Bob's watcher sees Alice's honest claim and confirms at once (timeout is 60 s).
    a = alice.wait(cid, _settled, timeout=50)
    bob.wait(cid, _settled, timeout=30)
    assert a["settlements"][0]["reason"] == "confirmed_by_peer"
    # deposited - paid to the peer + received from the peer, on the ledger.
    _wait_balance(alice, FUNDS - 3000 + 2000)
    _wait_balance(bob, FUNDS - 2000 + 3000)


def test_vanished_peer_funds_returned_after_timeout(
    pair: tuple[ChannelProcess, ChannelProcess],
) -> None:
    alice, bob = pair
    cid = _open(alice, bob, 4000, 0, timeout=3)
    for i in range(5):
        alice.call("POST", f"/channels/{cid}/pay", json={"amount": 100, "message": i})
    bob.kill()  # gone for good
    alice.call("POST", f"/channels/{cid}/close")
    state = alice.wait(cid, _settled, timeout=60)
    assert state["settlements"][0]["reason"] == "confirmed_after_timeout"
    _wait_balance(alice, FUNDS - 500)
