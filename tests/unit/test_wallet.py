"""Wallet unit tests against a hand-written fake IRI node (a PyOTA adapter) and SQLite.

The fake keeps a tiny ledger: stored bundles are checked with PyOTA's own
BundleValidator (so a wrong signature fails the test) and against confirmed
balances; they stay pending until ``milestone()`` confirms them and they mark
their inputs spent, as the devnet does. The integration tests in
tests/integration/wallet repeat the important paths against the real devnet.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from iota import Bundle, Transaction
from iota.adapter import BaseAdapter
from iota.crypto.addresses import AddressGenerator
from iota.transaction.validator import BundleValidator
from sqlalchemy import create_engine, text

from shared.iota.text import trytes_to_text
from shared.iota.trinary import TRYTE_ALPHABET
from shared.iota.validation import with_checksum
from shared.iota.wallet import InsufficientFunds, NodeError, SendResult, Wallet, WalletError

pytestmark = pytest.mark.timeout(120)

SEED_A = "WALLET9UNIT9TEST9SEED9A" + "9" * 58
SEED_B = "WALLET9UNIT9TEST9SEED9B" + "9" * 58
ROOT = Path(__file__).resolve().parents[2]


def _hash_for(counter: int) -> str:
    digits = ""
    while True:
        counter, rest = divmod(counter, 27)
        digits += TRYTE_ALPHABET[rest]
        if counter == 0:
            break
    return ("FUND" + digits).ljust(81, "9")


class FakeNode(BaseAdapter):
    """An in-memory IRI stand-in (see module docstring)."""

    supported_protocols = ()

    def __init__(self) -> None:
        super().__init__()
        self.balances: dict[str, int] = defaultdict(int)
        self.spent: set[str] = set()
        self.by_address: dict[str, list[str]] = defaultdict(list)
        self.pending: list[list[Transaction]] = []
        self.confirmed: set[str] = set()
        self.calls: list[str] = []
        self.failures: dict[str, Exception] = {}
        self.stored: list[list[Transaction]] = []
        self.milestone_index = 1
        self._counter = 0

    def get_uri(self) -> str:
        return "fake://node"

    def fund(self, address: str, value: int) -> None:
        """A confirmed deposit from outside (with a transaction, so the address counts as used)."""
        self._counter += 1
        fake_hash = _hash_for(self._counter)
        self.balances[address] += value
        self.by_address[address].append(fake_hash)
        self.confirmed.add(fake_hash)

    def milestone(self) -> None:
        for bundle in self.pending:
            for txn in bundle:
                self.balances[str(txn.address)] += txn.value
                self.confirmed.add(str(txn.hash))
        self.pending.clear()
        self.milestone_index += 1

    def send_request(self, payload: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        command = payload["command"]
        self.calls.append(command)
        if command in self.failures:
            raise self.failures[command]
        result: dict[str, Any] = getattr(self, f"_{command}")(payload)
        return result

    def _getBalances(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {
            "balances": [str(self.balances[a[:81]]) for a in payload["addresses"]],
            "references": [],
            "milestoneIndex": self.milestone_index,
        }

    def _wereAddressesSpentFrom(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {"states": [a[:81] in self.spent for a in payload["addresses"]]}

    def _findTransactions(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {"hashes": [h for a in payload["addresses"] for h in self.by_address[a[:81]]]}

    def _getTransactionsToApprove(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {"trunkTransaction": "9" * 81, "branchTransaction": "9" * 81}

    def _attachToTangle(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {"trytes": payload["trytes"]}  # no PoW needed here

    def _broadcastTransactions(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {}

    def _storeTransactions(self, payload: dict[str, Any]) -> dict[str, Any]:
        transactions = [Transaction.from_tryte_string(t) for t in payload["trytes"]]
        transactions.sort(key=lambda t: t.current_index)
        validator = BundleValidator(Bundle(transactions))
        if not validator.is_valid():
            raise ValueError(f"invalid bundle: {validator.errors}")
        for txn in transactions:
            if txn.value < 0:
                if self.balances[str(txn.address)] < -txn.value:
                    raise ValueError("input spends more than its confirmed balance")
                self.spent.add(str(txn.address))
        for txn in transactions:
            self.by_address[str(txn.address)].append(str(txn.hash))
        self.pending.append(transactions)
        self.stored.append(transactions)
        return {}

    def _getInclusionStates(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {"states": [h in self.confirmed for h in payload["transactions"]]}


@pytest.fixture
def node() -> FakeNode:
    return FakeNode()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'wallet.db'}"


def make_wallet(seed: str, node: FakeNode, db_url: str, **options: Any) -> Wallet:
    # Security 1 keeps the pure-Python PyOTA references (addresses, BundleValidator) quick.
    options.setdefault("security", 1)
    return Wallet(seed, "http://unused.invalid", db_url, adapter=node, **options)


def pyota_address(seed: str, index: int, security: int = 1) -> str:
    generator = AddressGenerator(seed, security_level=security, checksum=False)
    return str(generator.get_addresses(start=index, count=1)[0])


# -- construction ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("seed", "message"),
    [
        (SEED_A[:80], "exactly 81 trytes"),
        (SEED_A[:80] + "a", "character 80"),
        (None, "got NoneType"),
    ],
)
def test_bad_seed_is_refused_without_echo(seed: Any, message: str, db_url: str) -> None:
    with pytest.raises(WalletError, match=message) as info:
        Wallet(seed, "http://127.0.0.1:1", db_url)
    assert "WALLET9UNIT" not in str(info.value)


def test_bad_options_are_refused(db_url: str) -> None:
    with pytest.raises(WalletError, match="security"):
        Wallet(SEED_A, "http://127.0.0.1:1", db_url, security=4)
    with pytest.raises(WalletError, match="node_url"):
        Wallet(SEED_A, "ftp://x", db_url)
    with pytest.raises(WalletError, match="depth"):
        Wallet(SEED_A, "http://127.0.0.1:1", db_url, depth=0)


def test_repr_and_database_never_contain_the_seed(node: FakeNode, db_url: str) -> None:
    wallet = make_wallet(SEED_A, node, db_url)
    wallet.new_address("order:1")
    assert SEED_A not in repr(wallet)
    wallet.close()
    raw = Path(db_url.removeprefix("sqlite:///")).read_bytes()
    wal = Path(db_url.removeprefix("sqlite:///") + "-wal")
    if wal.exists():
        raw += wal.read_bytes()
    assert SEED_A.encode() not in raw
    assert b"WALLET9UNIT" not in raw


# -- addresses -------------------------------------------------------------------


def test_new_addresses_follow_key_indexes_and_record_purpose(node: FakeNode, db_url: str) -> None:
    wallet = make_wallet(SEED_A, node, db_url)
    first = wallet.new_address("order:1")
    second = wallet.new_address("order:2")
    assert first == pyota_address(SEED_A, 0)
    assert second == pyota_address(SEED_A, 1)
    rows = wallet.addresses()
    assert [(r.key_index, r.address, r.purpose, r.spent) for r in rows] == [
        (0, first, "order:1", False),
        (1, second, "order:2", False),
    ]
    with pytest.raises(WalletError, match="purpose"):
        wallet.new_address("")


def test_key_index_survives_a_new_wallet_on_the_same_database(node: FakeNode, db_url: str) -> None:
    first = make_wallet(SEED_A, node, db_url)
    handed_out = {first.new_address("a"), first.new_address("b")}
    first.close()
    again = make_wallet(SEED_A, node, db_url)
    third = again.new_address("c")
    assert third not in handed_out
    assert third == pyota_address(SEED_A, 2)
    # Another seed in the same database has its own index.
    other = make_wallet(SEED_B, node, db_url)
    assert other.new_address("x") == pyota_address(SEED_B, 0)


def test_key_index_survives_sigkill(tmp_path: Path) -> None:
    """A process is killed right after new_address returned: the next one skips that address."""
    db_url = f"sqlite:///{tmp_path / 'wallet.db'}"
    script = (
        "import sys, time\n"
        "from shared.iota.wallet import Wallet\n"
        f"w = Wallet({SEED_A!r}, 'http://127.0.0.1:9', {db_url!r}, security=1,"
        " check_node_for_reuse=False)\n"
        "print(w.new_address('order:crash'), flush=True)\n"
        "time.sleep(60)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        handed_out = child.stdout.readline().strip()
        assert len(handed_out) == 81
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    assert child.returncode == -signal.SIGKILL
    wallet = Wallet(SEED_A, "http://127.0.0.1:9", db_url, security=1, check_node_for_reuse=False)
    assert wallet.new_address("after") != handed_out
    assert wallet.addresses()[0].address == handed_out


def test_deposit_address_is_stable_until_spent(node: FakeNode, db_url: str) -> None:
    wallet = make_wallet(SEED_A, node, db_url)
    deposit = wallet.deposit_address()
    assert deposit == pyota_address(SEED_A, 0)
    assert wallet.deposit_address() == deposit
    newer = wallet.new_address("order:9")
    assert wallet.deposit_address() == newer  # the newest unspent address
    node.fund(deposit, 50)
    node.fund(newer, 50)
    result = wallet.send(100, pyota_address(SEED_B, 0))
    assert set(result.inputs) == {deposit, newer}
    assert result.remainder_address is None
    fresh = wallet.deposit_address()
    assert fresh not in (deposit, newer)


def test_addresses_used_on_the_tangle_are_skipped_and_kept(node: FakeNode, db_url: str) -> None:
    """A wallet whose database was lost rediscovers its old addresses instead of reusing them."""
    old0, old1 = pyota_address(SEED_A, 0), pyota_address(SEED_A, 1)
    node.fund(old0, 30)
    node.spent.add(old1)
    wallet = make_wallet(SEED_A, node, db_url)
    fresh = wallet.new_address("order:1")
    assert fresh == pyota_address(SEED_A, 2)
    rows = {r.address: r for r in wallet.addresses()}
    assert rows[old0].purpose == "found-used-on-tangle" and not rows[old0].spent
    assert rows[old1].spent
    assert wallet.balance() == 30  # the rediscovered funds count


def test_concurrent_new_address_calls_never_collide(node: FakeNode, db_url: str) -> None:
    wallet = make_wallet(SEED_A, node, db_url, check_node_for_reuse=False)
    results: list[str] = []
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            results.append(wallet.new_address(f"order:{n}"))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert len(set(results)) == 4
    assert sorted(r.key_index for r in wallet.addresses()) == [0, 1, 2, 3]


# -- balances and sending ----------------------------------------------------------


def test_send_with_remainder_moves_balances_after_confirmation(node: FakeNode, db_url: str) -> None:
    wallet = make_wallet(SEED_A, node, db_url, security=2)
    receiver = make_wallet(SEED_B, node, db_url, security=2)
    deposit = wallet.deposit_address()
    node.fund(deposit, 100)
    assert wallet.balance() == 100
    to = receiver.new_address("incoming")

    result = wallet.send(30, with_checksum(to), tag="AKITA9MACHINE", message="order 42")

    assert isinstance(result, SendResult)
    assert result.to == to and result.value == 30
    assert result.inputs == [deposit]
    assert result.remainder_address is not None
    assert result.remainder_address not in (deposit, to)
    bundle = node.stored[-1]
    assert {str(t.bundle_hash) for t in bundle} == {result.bundle_hash}
    assert str(bundle[0].hash) == result.tail_hash
    assert str(bundle[0].tag) == "AKITA9MACHINE" + "9" * 14
    assert trytes_to_text(str(bundle[0].signature_message_fragment)) == "order 42"
    assert len(bundle) == 1 + 2 + 1  # output, security-2 input, remainder
    # Pending until a milestone: nothing moves, the input is already flagged spent.
    assert wallet.is_spent(deposit)
    assert not wallet.is_confirmed(result.tail_hash)
    assert wallet.wait_until_confirmed(result.tail_hash, timeout=0.3, poll_interval=0.1) is False
    assert receiver.balance() == 0

    node.milestone()
    assert wallet.wait_until_confirmed(result.tail_hash, timeout=5)
    assert receiver.balance() == 30
    assert receiver.address_balance(to) == 30
    assert wallet.balance() == 70
    assert wallet.address_balance(result.remainder_address) == 70
    assert wallet.address_balance(deposit) == 0
    # The spent address is never handed out again.
    assert wallet.deposit_address() == result.remainder_address
    assert deposit not in {wallet.new_address("x") for _ in range(2)}


def test_second_send_uses_the_remainder_not_the_spent_input(node: FakeNode, db_url: str) -> None:
    wallet = make_wallet(SEED_A, node, db_url)
    first_input = wallet.deposit_address()
    node.fund(first_input, 100)
    target = pyota_address(SEED_B, 0)
    first = wallet.send(40, target)
    node.milestone()
    # Someone pays to the already-spent address: send() will not use it, and balance()
    # does not count it either (spending it would reuse a key).
    node.fund(first_input, 5)
    assert wallet.balance() == 60
    assert wallet.spendable_balance() == 60
    second = wallet.send(60, target)
    assert second.inputs == [first.remainder_address]
    assert second.remainder_address is None
    with pytest.raises(InsufficientFunds):
        wallet.send(1, target)


def test_insufficient_funds_leaves_everything_unspent(node: FakeNode, db_url: str) -> None:
    wallet = make_wallet(SEED_A, node, db_url)
    deposit = wallet.deposit_address()
    node.fund(deposit, 10)
    with pytest.raises(InsufficientFunds) as info:
        wallet.send(11, pyota_address(SEED_B, 0))
    assert (info.value.required, info.value.available) == (11, 10)
    assert "need 11" in str(info.value)
    assert not wallet.is_spent(deposit)
    assert "attachToTangle" not in node.calls
    assert wallet.balance() == 10


def test_unconfirmed_incoming_funds_are_not_spendable(node: FakeNode, db_url: str) -> None:
    payer = make_wallet(SEED_B, node, db_url)
    node.fund(payer.deposit_address(), 20)
    wallet = make_wallet(SEED_A, node, db_url)
    payer.send(20, wallet.deposit_address())  # still pending
    with pytest.raises(InsufficientFunds):
        wallet.send(5, pyota_address(SEED_B, 5))
    node.milestone()
    assert wallet.send(5, pyota_address(SEED_B, 5)).value == 5


def test_node_spent_flag_overrides_a_stale_database(node: FakeNode, db_url: str) -> None:
    wallet = make_wallet(SEED_A, node, db_url, check_node_for_reuse=False)
    a0 = wallet.new_address("a")
    a1 = wallet.new_address("b")
    node.fund(a0, 50)
    node.fund(a1, 50)
    node.spent.add(a0)  # spent elsewhere (e.g. the same seed in another database)
    result = wallet.send(40, pyota_address(SEED_B, 0))
    assert result.inputs == [a1]
    assert wallet.is_spent(a0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"value": -1}, "between 0"),
        ({"value": 1.5}, "integer"),
        ({"value": True}, "integer"),
        ({"to": "A" * 80}, "81 trytes"),
        ({"to": "X" * 90}, "checksum does not match"),
        ({"to": "A" * 80 + "I"}, "last trit"),
        ({"tag": "lower case tag!"}, "at most 27"),
    ],
)
def test_bad_send_arguments_are_refused_before_touching_funds(
    node: FakeNode, db_url: str, kwargs: dict[str, Any], message: str
) -> None:
    wallet = make_wallet(SEED_A, node, db_url)
    deposit = wallet.deposit_address()
    node.fund(deposit, 10)
    args: dict[str, Any] = {"value": 1, "to": pyota_address(SEED_B, 0), **kwargs}
    calls_before = len(node.calls)
    with pytest.raises(WalletError, match=message):
        wallet.send(args.pop("value"), args.pop("to"), **args)
    assert len(node.calls) == calls_before
    assert not wallet.is_spent(deposit)


def test_zero_value_message_needs_no_inputs(node: FakeNode, db_url: str) -> None:
    wallet = make_wallet(SEED_A, node, db_url)
    result = wallet.send(0, pyota_address(SEED_B, 0), message="x" * 3000)
    assert result.inputs == [] and result.remainder_address is None
    assert len(node.stored[-1]) == 3  # 6000 trytes of message need three fragments


def test_failure_before_signatures_leave_releases_inputs(node: FakeNode, db_url: str) -> None:
    wallet = make_wallet(SEED_A, node, db_url)
    deposit = wallet.deposit_address()
    node.fund(deposit, 10)
    node.failures["getTransactionsToApprove"] = ConnectionError("node restarting")
    with pytest.raises(NodeError, match="getTransactionsToApprove"):
        wallet.send(10, pyota_address(SEED_B, 0))
    assert not wallet.is_spent(deposit)
    del node.failures["getTransactionsToApprove"]
    assert wallet.send(10, pyota_address(SEED_B, 0)).inputs == [deposit]


def test_failure_after_signatures_left_keeps_inputs_spent(node: FakeNode, db_url: str) -> None:
    wallet = make_wallet(SEED_A, node, db_url)
    deposit = wallet.deposit_address()
    node.fund(deposit, 10)
    node.failures["storeTransactions"] = ValueError("refused")
    with pytest.raises(NodeError, match="storeTransactions"):
        wallet.send(10, pyota_address(SEED_B, 0))
    # attachToTangle saw the signature: signing again with that key would be reuse.
    assert wallet.is_spent(deposit)
    assert node.calls.count("storeTransactions") == 3  # retried before giving up


def test_wait_until_confirmed_survives_node_errors(node: FakeNode, db_url: str) -> None:
    wallet = make_wallet(SEED_A, node, db_url)
    node.fund(wallet.deposit_address(), 10)
    result = wallet.send(10, pyota_address(SEED_B, 0))
    node.failures["getInclusionStates"] = ConnectionError("down")
    with pytest.raises(NodeError):
        wallet.is_confirmed(result.tail_hash)

    def node_back() -> None:
        node.failures.clear()
        node.milestone()

    timer = threading.Timer(0.3, node_back)
    timer.start()
    try:
        assert wallet.wait_until_confirmed(result.tail_hash, timeout=10, poll_interval=0.05)
    finally:
        timer.cancel()
    with pytest.raises(WalletError, match="81-tryte"):
        wallet.is_confirmed("nope")


def test_shared_database_engine_is_accepted(node: FakeNode, tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'shared.db'}")
    wallet = Wallet(SEED_A, "http://unused.invalid", engine, security=1, adapter=node)
    wallet.new_address("x")
    with engine.connect() as connection:
        count = connection.execute(text("select count(*) from wallet_addresses")).scalar()
    assert count == 1


def test_refuses_to_send_value_to_its_own_spent_address(node: FakeNode, db_url: str) -> None:
    wallet = make_wallet(SEED_A, node, db_url)
    deposit = wallet.deposit_address()
    node.fund(deposit, 10)
    wallet.send(4, pyota_address(SEED_B, 0))
    node.milestone()
    with pytest.raises(WalletError, match="already spent from"):
        wallet.send(1, deposit)
    assert wallet.balance() == 6


def test_in_memory_database_is_shared_between_threads(node: FakeNode) -> None:
    wallet = Wallet(SEED_A, "http://unused.invalid", "sqlite://", security=1, adapter=node)
    first = wallet.new_address("main-thread")
    other: list[str] = []
    thread = threading.Thread(target=lambda: other.append(wallet.deposit_address()))
    thread.start()
    thread.join(30)
    assert other == [first]


# -- the address pool ---------------------------------------------------------------


def test_pool_hands_out_each_address_once_and_keeps_them_out_of_reach(
    node: FakeNode, db_url: str
) -> None:
    wallet = make_wallet(SEED_A, node, db_url)
    assert wallet.fill_pool(3) == 3
    assert wallet.fill_pool(3) == 0  # full already
    assert wallet.pool_size() == 3
    pooled = [pyota_address(SEED_A, n) for n in range(3)]
    # waiting in the pool: no deposit address, no reservation anyone holds, no input
    deposit = wallet.deposit_address()
    assert deposit == pyota_address(SEED_A, 3)
    assert wallet.reserved_addresses() == []
    node.fund(pooled[0], 40)
    with pytest.raises(InsufficientFunds):
        wallet.send(10, pyota_address(SEED_B, 0))
    assert wallet.release(pooled[0]) is False
    # handed out oldest first, the purpose recorded; then derived once the pool is empty
    assert wallet.new_address("order:1") == pooled[0]
    taken = wallet.new_addresses(["a", "b", "c"])
    assert taken == [pooled[1], pooled[2], pyota_address(SEED_A, 4)]
    assert wallet.pool_size() == 0
    rows = {r.address: r for r in wallet.addresses()}
    assert [rows[a].purpose for a in [pooled[0], *taken]] == ["order:1", "a", "b", "c"]
    assert not any(r.pooled or r.reserved for r in rows.values())
    # a reserved hand-out stays reserved
    wallet.fill_pool(1)
    held = wallet.new_address("order:2", reserve=True)
    assert wallet.reserved_addresses() == [held]
    with pytest.raises(WalletError, match="purpose"):
        wallet.new_addresses(["ok", ""])


def test_pool_is_shared_safely_by_wallets_on_one_database(node: FakeNode, db_url: str) -> None:
    """Two wallets (two processes, each with its own lock) take from one pool at once."""
    make_wallet(SEED_A, node, db_url, check_node_for_reuse=False).fill_pool(20)
    wallets = [make_wallet(SEED_A, node, db_url, check_node_for_reuse=False) for _ in range(2)]
    results: list[str] = []
    errors: list[BaseException] = []

    def worker(wallet: Wallet) -> None:
        try:
            for n in range(6):
                results.extend(wallet.new_addresses([f"x{n}", f"y{n}"]))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(w,)) for w in wallets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert len(results) == 24 and len(set(results)) == 24


def test_pool_survives_sigkill_without_handing_an_address_out_twice(tmp_path: Path) -> None:
    """A process fills the pool, takes two addresses and is killed: they never come back."""
    db_url = f"sqlite:///{tmp_path / 'wallet.db'}"
    script = (
        "import time\n"
        "from shared.iota.wallet import Wallet\n"
        f"w = Wallet({SEED_A!r}, 'http://127.0.0.1:9', {db_url!r}, security=1,"
        " check_node_for_reuse=False)\n"
        "w.fill_pool(5)\n"
        "print(*w.new_addresses(['request:1', 'request:2']), flush=True)\n"
        "time.sleep(60)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        handed_out = child.stdout.readline().split()
        assert len(handed_out) == 2 and all(len(a) == 81 for a in handed_out)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    assert child.returncode == -signal.SIGKILL
    wallet = Wallet(SEED_A, "http://127.0.0.1:9", db_url, security=1, check_node_for_reuse=False)
    assert wallet.pool_size() == 3
    after = wallet.new_addresses([f"after:{n}" for n in range(5)])
    assert len(set(after)) == 5 and not set(after) & set(handed_out)
    assert after[:3] == [pyota_address(SEED_A, n) for n in range(2, 5)]


def test_a_sweep_in_flight_keeps_the_balance_and_leaves_as_change(
    node: FakeNode, db_url: str
) -> None:
    """A sweep moves the wallet's own money to itself: until its milestone the balance
    neither dips nor doubles, and its value is the bundle's change (after the inputs)."""
    import time as _time

    wallet = make_wallet(SEED_A, node, db_url)
    held = wallet.new_address("order", reserve=True, hold_until=_time.time() - 1)
    node.fund(held, 77)
    assert wallet.balance() == 77
    assert wallet.sweep_due() == {held: 77}
    bundle = node.stored[-1]
    values = [int(t.value) for t in bundle]
    assert values[0] == 0 and values[-1] == 77 and sum(values[1:-1]) == -77  # note, input, change
    assert str(bundle[0].address) == str(bundle[-1].address) != held
    assert wallet.balance() == 77  # in flight: on the spent input still, and counted once
    node.milestone()
    assert wallet.balance() == 77
    assert wallet.spendable_balance() == 77
