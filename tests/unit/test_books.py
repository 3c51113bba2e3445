"""The books audit (shared/books.py) against a fake tangle that moves value like the devnet.

The fake keeps IRI's rules that matter to the audit: a bundle's values add up to zero,
an input spends its whole confirmed balance (the rest goes to a remainder), balances
move only when a milestone confirms the bundle, a reattachment is a second transaction
of the same bundle that never moves value twice, and an address once spent from is
flagged spent. The fake wallet chooses inputs and remainders as shared.iota.wallet does
and records what it signed as its ``wallet_sends`` would.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.audit.cli import external_wallets
from services.audit.cli import main as audit_main
from shared.books import (
    BooksReport,
    BooksSource,
    Incoming,
    SendRecord,
    WalletAddressRecord,
    WalletRecords,
    books_router,
    compute_books,
)
from shared.economy import EconomySnapshot, audit_economy, render
from shared.iota.bundle import TOTAL_SUPPLY

_counter = itertools.count(1)


def _trytes(prefix: str) -> str:
    """A distinct 81-tryte string."""
    number = next(_counter)
    digits = ""
    while number:
        number, rest = divmod(number, 26)
        digits += chr(ord("A") + rest)
    return (prefix + "9" + digits).ljust(81, "9")[:81]


@dataclass
class _Tx:
    hash: str
    address: str
    bundle: str
    index: int
    value: int
    confirmed: bool = False


@dataclass
class FakeTangle:
    """Confirmed balances, transactions, spent flags and milestones (see module doc)."""

    balances: dict[str, int] = field(default_factory=dict)
    txs: list[_Tx] = field(default_factory=list)
    spent: set[str] = field(default_factory=set)
    bundles: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    applied: set[str] = field(default_factory=set)
    milestone: int = 1

    def genesis(self, address: str, value: int) -> None:
        self.balances[address] = value

    def attach(self, moves: Sequence[tuple[str, int]]) -> tuple[str, str]:
        """A bundle of (address, value) moves; its hash and its tail's hash."""
        if sum(v for _, v in moves) != 0:
            raise ValueError("a bundle's values add up to 0")
        for address, value in moves:
            if value < 0 and self.balances.get(address, 0) != -value:
                raise ValueError("an input spends its whole confirmed balance")
        bundle = _trytes("BUNDLE")
        self.bundles[bundle] = list(moves)
        tail = ""
        for index, (address, value) in enumerate(moves):
            tx = _Tx(_trytes("TX"), address, bundle, index, value)
            tail = tail or tx.hash
            self.txs.append(tx)
            if value < 0:
                self.spent.add(address)
        return bundle, tail

    def reattach(self, bundle: str) -> None:
        for index, (address, value) in enumerate(self.bundles[bundle]):
            self.txs.append(_Tx(_trytes("TX"), address, bundle, index, value))

    def confirm(self, bundle: str) -> None:
        """A milestone confirms the (latest attachment of the) bundle: value moves once."""
        latest = {tx.index: tx for tx in self.txs if tx.bundle == bundle}
        for tx in latest.values():
            tx.confirmed = True
        if bundle not in self.applied:
            self.applied.add(bundle)
            for address, value in self.bundles[bundle]:
                self.balances[address] = self.balances.get(address, 0) + value
        self.milestone += 1

    # -- LedgerView --------------------------------------------------------------------

    def balances_of(self, addresses: Sequence[str]) -> dict[str, int]:
        return {a: self.balances.get(a, 0) for a in addresses}

    def confirmed(self, hashes: Sequence[str]) -> list[bool]:
        by_hash = {tx.hash: tx for tx in self.txs}
        return [by_hash[h].confirmed if h in by_hash else False for h in hashes]

    def incoming(self, addresses: Sequence[str]) -> list[Incoming]:
        wanted = set(addresses)
        merged: dict[tuple[str, str, int], Incoming] = {}
        for tx in self.txs:
            if tx.value > 0 and tx.address in wanted:
                key = (tx.bundle, tx.address, tx.index)
                known = merged.get(key)
                merged[key] = Incoming(
                    tx.address, tx.bundle, tx.value, tx.confirmed or bool(known and known.confirmed)
                )
        return list(merged.values())

    def snapshot(self, **escrows: object) -> dict[str, object]:
        return {
            "supply": TOTAL_SUPPLY,
            "total": sum(self.balances.values()),
            "milestone": self.milestone,
            "faucet": {"addresses": []},
            "escrows": [],
            "balances": [{"address": a, "balance": b} for a, b in self.balances.items() if b],
        }


class Ledger:
    """The LedgerView the audit reads (the fake tangle, as NodeLedger reads the devnet)."""

    def __init__(self, tangle: FakeTangle) -> None:
        self.tangle = tangle

    def balances(self, addresses: Sequence[str]) -> tuple[dict[str, int], int]:
        return self.tangle.balances_of(addresses), self.tangle.milestone

    def confirmed(self, hashes: Sequence[str]) -> list[bool]:
        return self.tangle.confirmed(hashes)

    def incoming(self, addresses: Sequence[str]) -> list[Incoming]:
        return self.tangle.incoming(addresses)


class FakeWallet:
    """Addresses with purposes, spent flags, and sends as shared.iota.wallet makes them."""

    def __init__(self, tangle: FakeTangle) -> None:
        self.tangle = tangle
        self.addresses: list[WalletAddressRecord] = []
        self.sends: list[SendRecord] = []

    def new_address(self, purpose: str) -> str:
        address = _trytes("ADDR")
        self.addresses.append(WalletAddressRecord(address, purpose, False))
        return address

    def send(self, value: int, to: str, *, reserved: Sequence[str] = ()) -> str:
        """Largest confirmed balances first; whole inputs; remainder to a fresh address."""
        candidates = [
            a
            for a in self.addresses
            if not a.spent and a.address not in reserved and self.tangle.balances.get(a.address)
        ]
        candidates.sort(key=lambda a: -self.tangle.balances[a.address])
        chosen, total = [], 0
        for row in candidates:
            if total >= value:
                break
            chosen.append(row)
            total += self.tangle.balances[row.address]
        if total < value:
            raise ValueError("insufficient funds")
        remainder = self.new_address("remainder") if total > value else None
        self.addresses = [
            WalletAddressRecord(a.address, a.purpose, a.spent or a in chosen)
            for a in self.addresses
        ]
        moves = [(to, value)] + [(r.address, -self.tangle.balances[r.address]) for r in chosen]
        if remainder:
            moves.append((remainder, total - value))
        bundle, tail = self.tangle.attach(moves)
        self.sends.append(
            SendRecord(
                bundle=bundle,
                to=to,
                value=value,
                inputs=tuple(r.address for r in chosen),
                remainder_address=remainder,
                remainder_value=total - value,
                state="attached",
                tail=tail,
            )
        )
        return bundle

    def records(self) -> WalletRecords:
        return WalletRecords(list(self.addresses), list(self.sends))


def pay(tangle: FakeTangle, source: str, to: str, value: int) -> str:
    """An outside payer (a faucet-like address holding exactly what it sends + rest)."""
    held = tangle.balances[source]
    rest = _trytes("REST")
    bundle, _ = tangle.attach([(to, value), (source, -held), (rest, held - value)])
    tangle.confirm(bundle)
    return rest


@pytest.fixture
def tangle() -> FakeTangle:
    t = FakeTangle()
    t.genesis("FAUCET".ljust(81, "9"), TOTAL_SUPPLY)
    return t


def robot_books(tangle: FakeTangle, wallet: FakeWallet, credited: dict[str, int]) -> BooksReport:
    return compute_books(
        "robot",
        wallet.records(),
        Ledger(tangle),
        credited=credited,
        invoiced=lambda purpose: purpose == "order",
    )


def test_an_order_paid_and_a_payout_made_balance(tangle: FakeTangle) -> None:
    robot = FakeWallet(tangle)
    order = robot.new_address("order")
    payer = pay(tangle, "FAUCET".ljust(81, "9"), order, 100)
    provider = _trytes("PROVIDER")
    bundle = robot.send(10, provider)
    # In flight: the order address is spent, the remainder not confirmed yet.
    report = robot_books(tangle, robot, {"orders_received": 100})
    assert (report.books, report.wallet, report.in_flight, report.stranded) == (90, 90, 1, 0)
    tangle.confirm(bundle)
    report = robot_books(tangle, robot, {"orders_received": 100})
    assert report.balanced and report.difference == 0
    assert (report.credited, report.received, report.sent) == (100, 0, 10)
    assert (report.books, report.wallet, report.in_flight) == (90, 90, 0)
    # Only the remainder address holds a balance now.
    assert [(h.purpose, h.balance, h.spent) for h in report.addresses] == [("remainder", 90, False)]
    assert payer  # the payer's rest is somebody else's


def test_a_late_payment_to_a_spent_address_that_the_books_credit_is_found(
    tangle: FakeTangle,
) -> None:
    """The grid's finding (issue 20): 77 tokens paid late to a request address it had
    spent from were credited; its wallet stayed 77 short of its books."""
    grid = FakeWallet(tangle)
    request = grid.new_address("payment-request consumer-1")
    rest = pay(tangle, "FAUCET".ljust(81, "9"), request, 35)
    tangle.confirm(grid.send(28, _trytes("PRODUCER")))
    pay(tangle, rest, request, 77)  # late, to the spent address
    report = compute_books(
        "grid",
        grid.records(),
        Ledger(tangle),
        credited={"payments_confirmed": 35 + 77},
        invoiced=lambda purpose: purpose.startswith("payment-request"),
    )
    assert report.stranded == 77
    assert report.difference == -77 and not report.balanced
    assert (report.books, report.wallet) == (84, 7)


def test_an_overpayment_kept_silently_is_found(tangle: FakeTangle) -> None:
    """The robot's finding: an order of 100 paid with 600 keeps 500 no book shows."""
    robot = FakeWallet(tangle)
    order = robot.new_address("order")
    pay(tangle, "FAUCET".ljust(81, "9"), order, 600)
    tangle.confirm(robot.send(10, _trytes("PROVIDER")))
    report = robot_books(tangle, robot, {"orders_received": 100})
    assert report.difference == 500 and not report.balanced


def test_open_addresses_count_what_arrived_once_and_only_when_confirmed(
    tangle: FakeTangle,
) -> None:
    consumer = FakeWallet(tangle)
    top_up = consumer.new_address("faucet top-up")
    faucet = "FAUCET".ljust(81, "9")
    bundle, _ = tangle.attach(
        [(top_up, 1000), (faucet, -TOTAL_SUPPLY), (_trytes("REST"), TOTAL_SUPPLY - 1000)]
    )
    report = compute_books(
        "consumer", consumer.records(), Ledger(tangle), credited={}, invoiced=lambda p: False
    )
    assert (report.received, report.unconfirmed_incoming, report.books, report.wallet) == (
        0,
        1000,
        0,
        0,
    )
    tangle.confirm(bundle)
    tangle.reattach(bundle)  # anyone may reattach a bundle: it moves value once
    tangle.confirm(bundle)
    report = compute_books(
        "consumer", consumer.records(), Ledger(tangle), credited={}, invoiced=lambda p: False
    )
    assert (report.received, report.books, report.wallet) == (1000, 1000, 1000)
    # Spending it: own remainders are no income, the payment is sent.
    tangle.confirm(consumer.send(300, _trytes("GRID")))
    report = compute_books(
        "consumer", consumer.records(), Ledger(tangle), credited={}, invoiced=lambda p: False
    )
    assert (report.received, report.sent, report.books, report.wallet) == (1000, 300, 700, 700)
    assert report.balanced


def test_a_sweep_to_an_own_address_in_flight_keeps_the_books_balanced(
    tangle: FakeTangle,
) -> None:
    """A sweep (shared.iota.wallet) moves an address's money to a fresh address of the
    same wallet: no income, nothing sent, balanced while in flight and after."""
    robot = FakeWallet(tangle)
    order = robot.new_address("order")
    pay(tangle, "FAUCET".ljust(81, "9"), order, 100)
    bundle = robot.send(100, robot.new_address("sweep"))
    report = robot_books(tangle, robot, {"orders_received": 100})
    assert (report.in_flight, report.sent, report.books, report.wallet) == (1, 0, 100, 100)
    tangle.confirm(bundle)
    report = robot_books(tangle, robot, {"orders_received": 100})
    assert (report.in_flight, report.received, report.books, report.wallet) == (0, 0, 100, 100)


def test_a_send_the_books_do_not_know_of_is_a_difference(tangle: FakeTangle) -> None:
    robot = FakeWallet(tangle)
    order = robot.new_address("order")
    pay(tangle, "FAUCET".ljust(81, "9"), order, 100)
    # The order was paid but the books never credited it (e.g. a lost database row).
    report = robot_books(tangle, robot, {"orders_received": 0})
    assert report.difference == 100


def _snapshot(tangle: FakeTangle, **extra: object) -> EconomySnapshot:
    body = tangle.snapshot()
    body.update(extra)
    return EconomySnapshot.from_json(body)


def test_the_economy_passes_when_every_balance_is_attributed(tangle: FakeTangle) -> None:
    robot = FakeWallet(tangle)
    order = robot.new_address("order")
    faucet = "FAUCET".ljust(81, "9")
    rest = pay(tangle, faucet, order, 100)
    tangle.confirm(robot.send(10, provider := _trytes("PROVIDER")))
    report = robot_books(tangle, robot, {"orders_received": 100})
    snapshot = _snapshot(
        tangle,
        faucet={
            "addresses": [
                {"address": faucet, "balance": 0},
                {"address": rest, "balance": tangle.balances[rest]},
            ]
        },
    )
    audit = audit_economy(snapshot, [report], {"provider": [provider]})
    assert audit.passed, audit.failures
    assert audit.row("robot").holds == 90
    assert audit.row("external:provider").holds == 10
    assert audit.row("faucet").holds == TOTAL_SUPPLY - 100
    assert audit.attributed == TOTAL_SUPPLY
    table = render(audit)
    assert table.splitlines()[0] == "economy audit PASSED"
    assert "robot" in table and "supply" in table


def test_unattributed_tokens_fail_the_economy(tangle: FakeTangle) -> None:
    robot = FakeWallet(tangle)
    order = robot.new_address("order")
    faucet = "FAUCET".ljust(81, "9")
    rest = pay(tangle, faucet, order, 100)
    tangle.confirm(robot.send(10, provider := _trytes("PROVIDER")))
    report = robot_books(tangle, robot, {"orders_received": 100})
    snapshot = _snapshot(tangle, faucet={"addresses": [{"address": rest, "balance": 0}]})
    audit = audit_economy(snapshot, [report])  # the provider is not named
    assert not audit.passed
    assert audit.unattributed == {provider: 10}
    assert any("10 tokens on 1 addresses belong to no wallet" in f for f in audit.failures)
    first = render(audit, color=True).splitlines()[0]
    assert first.startswith("\x1b[31meconomy audit FAILED")


def test_books_that_differ_and_bad_escrows_fail_the_economy(tangle: FakeTangle) -> None:
    robot = FakeWallet(tangle)
    order = robot.new_address("order")
    faucet = "FAUCET".ljust(81, "9")
    rest = pay(tangle, faucet, order, 600)
    report = robot_books(tangle, robot, {"orders_received": 100})
    escrow = _trytes("ESCROW")
    snapshot = _snapshot(
        tangle,
        faucet={"addresses": [{"address": rest, "balance": 0}]},
        escrows=[
            {"address": escrow, "channel_id": "ab" * 32, "period": 1, "balance": 0, "books": 5}
        ],
    )
    audit = audit_economy(snapshot, [report], unreachable={"http://wind": "HTTP 503"})
    assert not audit.passed
    joined = "\n".join(audit.failures)
    assert "robot: books 100 but wallet 600 (difference +500)" in joined
    assert "the agent's books say 5, it holds 0" in joined
    assert "http://wind: no books (HTTP 503)" in joined


def test_a_supply_that_does_not_add_up_fails(tangle: FakeTangle) -> None:
    faucet = "FAUCET".ljust(81, "9")
    body = tangle.snapshot()
    body["faucet"] = {"addresses": [{"address": faucet, "balance": TOTAL_SUPPLY}]}
    body["balances"] = [{"address": faucet, "balance": TOTAL_SUPPLY - 1}]
    body["total"] = TOTAL_SUPPLY - 1
    audit = audit_economy(EconomySnapshot.from_json(body), [])
    assert any("add up to" in f for f in audit.failures)
    assert any("the supply is" in f for f in audit.failures)


def test_an_address_claimed_by_two_owners_fails(tangle: FakeTangle) -> None:
    faucet = "FAUCET".ljust(81, "9")
    snapshot = _snapshot(tangle, faucet={"addresses": [{"address": faucet, "balance": 1}]})
    audit = audit_economy(snapshot, [], {"payer": [faucet]})
    assert any("claimed by faucet and external:payer" in f for f in audit.failures)


# -- the route ---------------------------------------------------------------------------


def _app(source: BooksSource) -> TestClient:
    app = FastAPI()
    app.include_router(books_router(source))
    return TestClient(app)


def test_the_route_answers_503_while_the_wallet_starts_and_when_the_node_is_down() -> None:
    starting = _app(BooksSource(service=lambda: "x", node_url="http://n", wallet=lambda: None))
    reply = starting.get("/books")
    assert reply.status_code == 503 and reply.json() == {"detail": "the wallet is starting"}
    schema = starting.get("/openapi.json").json()["paths"]["/books"]["get"]["responses"]
    assert set(schema) == {"200", "503"}

    class Broken:
        def addresses(self) -> list[object]:
            raise httpx.ConnectError("down")

    broken = _app(BooksSource(service=lambda: "x", node_url="http://127.0.0.1:9", wallet=Broken))
    reply = broken.get("/books")
    assert reply.status_code == 503 and "did not answer" in reply.json()["detail"]


# -- the command -------------------------------------------------------------------------


def test_external_wallets_are_parsed_and_bad_ones_named() -> None:
    address = "A" * 81
    wallets = external_wallets([f"payer={address}"], ["bob=" + "B" * 81 + ":3"])
    assert wallets["payer"] == [address]
    assert len(wallets["bob"]) == 3 and len(set(wallets["bob"])) == 3
    with pytest.raises(ValueError, match="NAME=ADDRESS"):
        external_wallets(["nonsense"], [])
    with pytest.raises(ValueError, match="not an 81-tryte seed") as error:
        external_wallets([], ["bob=SECRET"])
    assert "SECRET" not in str(error.value)
    with pytest.raises(ValueError, match="COUNT"):
        external_wallets([], ["bob=" + "B" * 81 + ":0"])


def test_the_command_exits_2_when_the_devnet_cannot_be_read(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert audit_main(["--devnet", "http://127.0.0.1:9"]) == 2
    assert "cannot be read" in capsys.readouterr().err
