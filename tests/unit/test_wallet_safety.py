"""The wallet keeps money safe: reserved addresses are never inputs, a failed attach re-sends
the same signed bundle, balances count only what is really there, and two processes sharing
one PostgreSQL database never claim the same input.

The node is the FakeNode of test_wallet.py: a small ledger that really moves value when a
milestone confirms a bundle and marks inputs spent when a bundle is stored.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from iota import Transaction

from shared.iota.wallet import InsufficientFunds, NodeError, Wallet
from tests.unit.test_wallet import ROOT, SEED_A, SEED_B, FakeNode, make_wallet, pyota_address

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def node() -> FakeNode:
    return FakeNode()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'wallet.db'}"


def input_addresses(bundle: list[Transaction]) -> set[str]:
    return {str(t.address) for t in bundle if t.value < 0}


def test_reserved_order_address_is_never_swept_by_a_payout(node: FakeNode, db_url: str) -> None:
    """The bug of issue 14: a queued order paid more than the order ahead of it was swept."""
    wallet = make_wallet(SEED_A, node, db_url)
    head = wallet.new_address("order:head", reserve=True)
    queued = wallet.new_address("order:queued", reserve=True)
    node.fund(head, 100)
    node.fund(queued, 500)  # overpaid, waiting its turn
    assert wallet.release(head)  # the head order is paid and confirmed: its money is ours
    assert wallet.spendable_balance() == 100
    assert wallet.balance() == 600
    payout = wallet.send(10, pyota_address(SEED_B, 0))
    assert payout.inputs == [head]
    assert not wallet.is_spent(queued)
    with pytest.raises(InsufficientFunds):
        wallet.send(200, pyota_address(SEED_B, 1))  # the remainder is not confirmed yet
    node.milestone()
    assert wallet.reserved_addresses() == [queued]
    assert wallet.address_balance(queued) == 500
    assert wallet.deposit_address() not in (head, queued)
    # Its order finished: now it may be spent.
    assert wallet.release(queued)
    assert not wallet.release(queued)  # idempotent
    second = wallet.send(200, pyota_address(SEED_B, 1))
    assert second.inputs == [queued]


def test_failed_attach_resends_the_same_signed_bundle(node: FakeNode, db_url: str) -> None:
    """The second bug: inputs stayed spent and the signed bundle was never sent again."""
    wallet = make_wallet(SEED_A, node, db_url)
    deposit = wallet.deposit_address()
    node.fund(deposit, 100)
    target = pyota_address(SEED_B, 0)
    node.failures["attachToTangle"] = ConnectionError("node restarting")
    with pytest.raises(NodeError, match="attachToTangle"):
        wallet.send(30, target)
    assert wallet.is_spent(deposit)  # the signature may have reached the node
    [pending] = wallet.pending_sends()
    assert (pending.value, pending.to_address) == (30, target)
    # Not spendable while it waits, and not counted as if it were.
    assert wallet.spendable_balance() == 0
    assert wallet.balance() == 0
    with pytest.raises(NodeError):
        wallet.send(30, target)  # still down: no second bundle is signed
    del node.failures["attachToTangle"]
    # The caller retries: the same bundle goes out, nothing is signed again.
    result = wallet.send(30, target)
    assert result.bundle_hash == pending.bundle_hash
    assert wallet.pending_sends() == []
    assert len(node.stored) == 1
    assert wallet.balance() == 70  # the remainder, on its way
    node.milestone()
    assert node.balances[target] == 30
    assert wallet.balance() == 70
    assert wallet.spendable_balance() == 70


def test_pending_bundle_is_sent_before_anything_new(node: FakeNode, db_url: str) -> None:
    wallet = make_wallet(SEED_A, node, db_url)
    deposit = wallet.deposit_address()
    node.fund(deposit, 100)
    first_target, other = pyota_address(SEED_B, 0), pyota_address(SEED_B, 1)
    node.failures["storeTransactions"] = ConnectionError("lost")
    with pytest.raises(NodeError):
        wallet.send(30, first_target)
    del node.failures["storeTransactions"]
    # A different transfer: the pending one is delivered first; its remainder is not
    # confirmed, so the new one cannot be paid yet, and the spent input is never re-signed.
    with pytest.raises(InsufficientFunds):
        wallet.send(20, other)
    assert wallet.pending_sends() == []
    node.milestone()
    wallet.send(20, other)
    node.milestone()
    assert node.balances[first_target] == 30
    assert node.balances[other] == 20
    assert wallet.balance() == 50
    signed_by_deposit = {
        str(t.bundle_hash) for bundle in node.stored for t in bundle if str(t.address) == deposit
    }
    assert len(signed_by_deposit) == 1


def test_restart_keeps_the_pending_bundle(node: FakeNode, db_url: str) -> None:
    wallet = make_wallet(SEED_A, node, db_url)
    node.fund(wallet.deposit_address(), 50)
    node.failures["attachToTangle"] = ConnectionError("down")
    with pytest.raises(NodeError):
        wallet.send(50, pyota_address(SEED_B, 0))
    wallet.close()
    del node.failures["attachToTangle"]
    again = make_wallet(SEED_A, node, db_url)
    [result] = again.resend_pending()
    assert result.value == 50
    node.milestone()
    assert node.balances[pyota_address(SEED_B, 0)] == 50


class LockedNode(FakeNode):
    """The fake node serialised, as a real node is, for wallets in several threads."""

    def __init__(self) -> None:
        super().__init__()
        self._guard = threading.Lock()

    def send_request(self, payload: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        with self._guard:
            return super().send_request(payload, **kwargs)


def _claims_never_overlap(url: str) -> None:
    node = LockedNode()
    # Two wallets of one seed, each with its own engine: to the database they are two
    # processes. Twelve funded addresses, twelve sends that each need exactly one.
    first = Wallet(SEED_A, "http://unused.invalid", url, security=1, adapter=node)
    second = Wallet(SEED_A, "http://unused.invalid", url, security=1, adapter=node)
    for _ in range(12):
        node.fund(first.new_address("deposit"), 10)
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def spend(wallet: Wallet, offset: int) -> None:
        barrier.wait()
        for n in range(6):
            try:
                wallet.send(10, pyota_address(SEED_B, offset + n))
            except BaseException as error:
                errors.append(error)

    threads = [
        threading.Thread(target=spend, args=(first, 0)),
        threading.Thread(target=spend, args=(second, 6)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert len(node.stored) == 12
    used: list[str] = [a for bundle in node.stored for a in input_addresses(bundle)]
    assert len(used) == len(set(used)) == 12
    node.milestone()
    assert sum(node.balances[pyota_address(SEED_B, n)] for n in range(12)) == 120
    first.close()
    second.close()


def test_two_processes_on_postgresql_never_claim_the_same_input(postgres_url: str) -> None:
    _claims_never_overlap(postgres_url)


def test_two_processes_on_sqlite_never_claim_the_same_input(db_url: str) -> None:
    _claims_never_overlap(db_url)


def _send_killed_in(db: str, node_call: str, target: str) -> None:
    """A child process sends 30 of a 100-token deposit and is SIGKILLed while the fake
    node's ``node_call`` hangs: the crash at that exact step of a send."""
    script = (
        "import time\n"
        "from tests.unit.test_wallet import FakeNode, SEED_A, make_wallet\n"
        "class Hanging(FakeNode):\n"
        f"    def _{node_call}(self, payload):\n"
        "        print('hanging', flush=True)\n"
        "        time.sleep(120)\n"
        "node = Hanging()\n"
        f"wallet = make_wallet(SEED_A, node, {db!r})\n"
        "node.fund(wallet.deposit_address(), 100)\n"
        f"wallet.send(30, {target!r})\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "hanging"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)


def test_sigkill_while_attaching_then_the_same_bundle_is_sent_once(tmp_path: Path) -> None:
    """The risky moment: signed, recorded, handed to attachToTangle, then SIGKILL. The
    restarted wallet sends that very bundle at once (its owner is dead) and signs nothing."""
    db = f"sqlite:///{tmp_path / 'wallet.db'}"
    target = pyota_address(SEED_B, 0)
    _send_killed_in(db, "attachToTangle", target)
    node = FakeNode()
    wallet = make_wallet(SEED_A, node, db)
    [pending] = wallet.pending_sends()
    deposit = json.loads(pending.inputs)[0]
    assert wallet.is_spent(deposit)
    node.fund(deposit, 100)  # what the real node holds
    result = wallet.send(30, target)  # the caller retries after the crash
    assert result.bundle_hash == pending.bundle_hash
    assert len(node.stored) == 1
    node.milestone()
    assert node.balances[target] == 30
    assert wallet.balance() == 70


def test_sigkill_between_claiming_and_recording_gives_the_inputs_back(tmp_path: Path) -> None:
    """The other risky moment: inputs claimed (spent in the database) and the bundle signed
    in memory, then SIGKILL before it was recorded. Nothing left the process, so the
    restarted wallet releases the claim (its owner is dead, no recorded bundle uses it,
    the node never saw it spent) and the tokens move, signed once."""
    db = f"sqlite:///{tmp_path / 'wallet.db'}"
    target = pyota_address(SEED_B, 0)
    _send_killed_in(db, "getTransactionsToApprove", target)
    node = FakeNode()
    wallet = make_wallet(SEED_A, node, db)
    assert wallet.pending_sends() == []  # never recorded
    [claimed] = [row for row in wallet.addresses() if row.spent]
    node.fund(claimed.address, 100)  # what the real node holds
    result = wallet.send(30, target)
    assert result.inputs == [claimed.address]  # the claim was given back and used once
    assert len(node.stored) == 1
    node.milestone()
    assert node.balances[target] == 30
    assert wallet.balance() == 70


def test_a_live_claim_is_never_released(node: FakeNode, db_url: str) -> None:
    """A claim whose process still runs (here: this one) is left alone."""
    wallet = make_wallet(SEED_A, node, db_url)
    deposit = wallet.deposit_address()
    node.fund(deposit, 10)
    [row] = [r for r in wallet.addresses() if r.address == deposit]
    assert wallet._mark_spent([row], only_available=True)
    assert wallet._release_orphaned_claims() == 0
    assert wallet.is_spent(deposit)
