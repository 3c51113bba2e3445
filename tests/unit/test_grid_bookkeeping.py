"""The grid's books on a real SQLite database: billing, owed semantics, late usage,
payments, the cut, largest-remainder payouts and waiting money (no node needed: the
return channel's messages are only queued here)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from services.grid.app import STORE as GRID_STORE
from services.grid.bookkeeping import GridBooks, return_channel_name
from services.grid.db import Payout
from shared.db import make_engine, make_sessionmaker, sqlite_url
from shared.energy.channels import ChannelBook, OutboxMessage
from shared.energy.messages import (
    EnergyMessage,
    Hello,
    PaymentRequest,
    ProducerOutput,
    Usage,
    decode_trytes,
)
from shared.energy.models import STORE as ENERGY_STORE
from shared.energy.models import Registration
from shared.energy.slices import Slice
from shared.mam.channel import parse_message
from shared.mam.tangle import NodeApi
from shared.migrations import upgrade

SLICE = 10  # seconds
S1, S2, S3 = Slice(0, 10_000), Slice(10_000, 20_000), Slice(20_000, 30_000)
ADDRESS = "P" * 81


class Books:
    def __init__(self, url: str, fee: int = 20) -> None:
        engine = make_engine(url)
        upgrade(engine, ENERGY_STORE)
        upgrade(engine, GRID_STORE)
        self.sessions = make_sessionmaker(engine)
        self.grid_books = GridBooks(
            self.sessions,
            slice_seconds=SLICE,
            fee_percent=fee,
            pricing="weighted",
            default_price=10,
        )
        self.node = NodeApi("http://127.0.0.1:9")
        self.book = ChannelBook(self.node, self.sessions)
        self.addresses = 0

    def register(self, registration_id: str, kind: str) -> None:
        with self.sessions.begin() as session:
            session.add(
                Registration(registration_id=registration_id, item_name="x", item_type=kind)
            )
        if kind == "consumer":
            self.book.ensure(return_channel_name(registration_id))
            with self.sessions.begin() as session:
                self.book.prepare(session, return_channel_name(registration_id), Hello())

    def read(self, registration_id: str, message: EnergyMessage) -> None:
        with self.sessions.begin() as session:
            self.grid_books.handle_message(session, registration_id, message)

    def settle(self, slot: Slice) -> int:
        consumers = self.grid_books.consumers_to_bill(slot)
        addresses = {}
        for consumer in consumers:
            self.addresses += 1  # a fresh "grid address" per request
            addresses[consumer] = chr(64 + self.addresses % 26 + 1) * 81
        return self.grid_books.settle(slot, addresses, self.book).requests

    def requests(self, consumer: str) -> list[PaymentRequest]:
        """The payment requests queued on the consumer's return channel, decoded."""
        channel = self.book.get(return_channel_name(consumer))
        assert channel is not None
        with self.sessions() as session:
            rows = list(
                session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.channel == channel.name)
                    .order_by(OutboxMessage.id)
                )
            )
        out = []
        for row in rows:
            parsed = parse_message(row.payload, row.root, channel.side_key)
            message = decode_trytes(parsed.message)
            if isinstance(message, PaymentRequest):
                out.append(message)
        return out

    def pay(self, consumer: str, value: int, bundle: str = "B" * 81) -> int:
        request = self.requests(consumer)[-1]
        address = request.payment_id_or_address
        assert self.grid_books.record_payment(bundle, address, "T" * 81, value)
        return max(pid for pid, *_ in self.grid_books.pending_payments())

    def payouts(self) -> dict[str, int]:
        with self.sessions() as session:
            out: dict[str, int] = {}
            for row in session.scalars(select(Payout)):
                out[row.producer_id] = out.get(row.producer_id, 0) + row.amount
            return out

    def balanced(self) -> dict[str, int]:
        totals = self.grid_books.accounts()["totals"]
        assert (
            totals["received"]
            == totals["cut"] + totals["paidOut"] + totals["waiting"] + totals["credit"]
        )
        return totals


@pytest.fixture(params=["sqlite", "postgresql"])
def books(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Books]:
    """The books on SQLite (the default) and on PostgreSQL (DATABASE_URL)."""
    if request.param == "sqlite":
        url = sqlite_url(tmp_path, "grid")
    else:
        url = request.getfixturevalue("postgres_url")
    state = Books(url)
    yield state
    state.node.close()
    state.sessions.kw["bind"].dispose()


def test_storage_on_both_databases(books: Books) -> None:
    from services.grid.storage import StorageStore

    store = StorageStore(books.sessions, max_items=3)
    assert store.put_many(
        [("OWNER001", "c", "a", '{"n":1}'), ("OWNER001", "c", "a", '{"n":2}')]
    ) == [None, None]
    results = store.put_many(
        [("OWNER001", "c", "b", "{}"), ("OWNER001", "c", "d", "{}"), ("OWNER001", "c", "e", "{}")]
    )
    assert results[:2] == [None, None] and results[2] is not None and results[2].status == 409
    assert store.get("OWNER001", "c", "a") == '{"n":2}'
    rows, total = store.page("OWNER001", "c", 0, 2)
    assert [item for item, _ in rows] == ["a", "b"] and total == 3
    store.put("OWNER001", "c", "a", '{"n":3}')
    assert store.get("OWNER001", "c", "a") == '{"n":3}'
    assert store.delete("OWNER001", "c") == 3


def output(slot: Slice, kwh: float, price: float) -> ProducerOutput:
    return ProducerOutput(slot.start, slot.end, kwh, price, ADDRESS)


def test_bill_pay_cut_and_share(books: Books) -> None:
    books.register("WIND0001", "producer")
    books.register("SOLAR001", "producer")
    books.register("JAKE0001", "consumer")
    books.read("WIND0001", output(S1, 3.0, 100))
    books.read("SOLAR001", output(S1, 1.0, 200))
    books.read("JAKE0001", Usage(S1.start, S1.end, 0.4))
    # a re-sent slice replaces the first message: never counted twice
    books.read("JAKE0001", Usage(S1.start, S1.end, 0.4))
    assert books.settle(S1) == 1
    (request,) = books.requests("JAKE0001")
    assert request.owed == 50 and request.usage == pytest.approx(0.4)  # 0.4 x 125
    assert books.grid_books.slice_prices()[0]["price"] == pytest.approx(125)

    # a slice without new usage: no request
    assert books.settle(S2) == 0

    # another slice of usage: owed is the running unpaid total
    books.read("JAKE0001", Usage(S3.start, S3.end, 0.2))
    books.read("WIND0001", output(S3, 1.0, 100))
    assert books.settle(S3) == 1
    assert books.requests("JAKE0001")[-1].owed == 70  # 50 + 0.2 x 100
    assert books.requests("JAKE0001")[-1].usage == pytest.approx(0.2)

    # a payment seen (pending) is excluded from owed at once; confirmed pays producers
    payment = books.pay("JAKE0001", 50)
    consumer = books.grid_books.accounts()["consumers"]["JAKE0001"]
    assert consumer == {
        "requested": 70,
        "paid": 0,
        "pending": 50,
        "owed": 20,
        "credit": 0,
        "late": 0,
    }
    books.grid_books.confirm_payment(payment)
    books.grid_books.confirm_payment(payment)  # twice: once
    consumer = books.grid_books.accounts()["consumers"]["JAKE0001"]
    assert consumer == {
        "requested": 70,
        "paid": 50,
        "pending": 0,
        "owed": 20,
        "credit": 0,
        "late": 0,
    }
    # 50 paid the first request (slice S1: wind 3 kWh, solar 1): cut 10, 40 shared 30/10
    assert books.payouts() == {"WIND0001": 30, "SOLAR001": 10}
    assert books.balanced() == {
        "received": 50,
        "cut": 10,
        "paidOut": 0,
        "waiting": 40,
        "credit": 0,
        "late": 0,
    }
    # the same transfer seen again (ZMQ and the scan) is one payment
    request = books.requests("JAKE0001")[-1]
    address = request.payment_id_or_address
    assert not books.grid_books.record_payment("B" * 81, address, "T" * 81, 50)


def test_late_usage_is_billed_with_the_next_slice_at_its_own_price(books: Books) -> None:
    books.register("WIND0001", "producer")
    books.register("JAKE0001", "consumer")
    books.read("WIND0001", output(S1, 1.0, 50))
    books.settle(S1)  # no usage yet
    books.read("JAKE0001", Usage(S1.start, S1.end, 1.0))  # arrives after S1 was settled
    books.read("WIND0001", output(S2, 1.0, 200))
    assert books.settle(S2) == 1
    (request,) = books.requests("JAKE0001")
    assert request.usage == pytest.approx(1.0) and request.owed == 50  # S1's price, not S2's


def test_money_waits_until_some_producer_has_output(books: Books) -> None:
    books.register("WIND0001", "producer")
    books.register("JAKE0001", "consumer")
    books.read("JAKE0001", Usage(S1.start, S1.end, 1.0))
    books.settle(S1)  # no producer price: GRID_DEFAULT_PRICE (10)
    assert books.requests("JAKE0001")[0].owed == 10
    books.grid_books.confirm_payment(books.pay("JAKE0001", 10))
    assert books.payouts() == {}
    assert books.balanced() == {
        "received": 10,
        "cut": 2,
        "paidOut": 0,
        "waiting": 8,
        "credit": 0,
        "late": 0,
    }
    assert books.grid_books.assign_waiting() == 0  # still nobody to pay
    books.read("WIND0001", output(S2, 2.0, 10))
    assert books.grid_books.assign_waiting() == 8
    assert books.payouts() == {"WIND0001": 8}
    assert books.balanced()["waiting"] == 8  # planned, not sent yet
    (payout,) = books.grid_books.open_payouts()
    books.grid_books.mark_payout(payout.id, status="sent", tail_hash="T" * 81)
    assert books.balanced() == {
        "received": 10,
        "cut": 2,
        "paidOut": 8,
        "waiting": 0,
        "credit": 0,
        "late": 0,
    }


def test_shares_from_recent_slices_when_the_paid_ones_had_no_output(books: Books) -> None:
    books.register("WIND0001", "producer")
    books.register("SOLAR001", "producer")
    books.register("JAKE0001", "consumer")
    books.read("WIND0001", output(S1, 1.0, 10))
    books.read("SOLAR001", output(S1, 3.0, 10))
    books.read("JAKE0001", Usage(S2.start, S2.end, 1.0))
    books.settle(S2)
    books.grid_books.confirm_payment(books.pay("JAKE0001", 10))  # cut floor(2.0) = 2
    assert books.payouts() == {"WIND0001": 2, "SOLAR001": 6}  # 8 by 1:3
    assert books.balanced()["received"] == 10


def test_overpayment_is_the_consumers_credit_and_pays_its_next_request(books: Books) -> None:
    """Issue 20: 35 asked, 1,092 paid in three payments: 35 earned (cut and payouts), the
    rest a visible credit that pays the next requests, never paid out before."""
    books.register("WIND0001", "producer")
    books.register("JAKE0001", "consumer")
    books.read("WIND0001", output(S1, 1.0, 100))
    books.read("JAKE0001", Usage(S1.start, S1.end, 0.35))
    books.settle(S1)
    assert books.requests("JAKE0001")[-1].owed == 35
    for value, bundle in ((35, "A"), (1000, "C"), (57, "D")):
        books.grid_books.confirm_payment(books.pay("JAKE0001", value, bundle * 81))
    assert books.payouts() == {"WIND0001": 28}  # 35 - cut 7: the excess is not paid out
    totals = books.balanced()
    assert totals == {
        "received": 1092,
        "cut": 7,
        "paidOut": 0,
        "waiting": 28,
        "credit": 1057,
        "late": 0,
    }
    consumer = books.grid_books.accounts()["consumers"]["JAKE0001"]
    assert (consumer["credit"], consumer["owed"]) == (1057, 0)
    # the next request is paid from the credit: earned then, and only then
    books.read("WIND0001", output(S2, 1.0, 100))
    books.read("JAKE0001", Usage(S2.start, S2.end, 0.5))
    books.settle(S2)
    assert books.requests("JAKE0001")[-1].owed == 0
    assert books.payouts() == {"WIND0001": 28 + 40}
    assert books.balanced()["credit"] == 1007


def test_underpayment_stays_owed_with_the_partial_sum_visible(books: Books) -> None:
    books.register("WIND0001", "producer")
    books.register("JAKE0001", "consumer")
    books.read("WIND0001", output(S1, 1.0, 100))
    books.read("JAKE0001", Usage(S1.start, S1.end, 0.5))
    books.settle(S1)
    books.grid_books.confirm_payment(books.pay("JAKE0001", 20))
    consumer = books.grid_books.accounts()["consumers"]["JAKE0001"]
    assert (consumer["paid"], consumer["owed"], consumer["credit"]) == (20, 30, 0)
    assert books.payouts() == {"WIND0001": 16}  # only what was paid is shared out


def test_a_payment_after_the_sweep_is_late_never_counted(books: Books) -> None:
    """The wallet swept 50 from the request address; a later 77 there is late."""
    books.register("WIND0001", "producer")
    books.register("JAKE0001", "consumer")
    books.read("WIND0001", output(S1, 1.0, 100))
    books.read("JAKE0001", Usage(S1.start, S1.end, 0.5))
    books.settle(S1)
    first = books.pay("JAKE0001", 50)
    assert books.grid_books.confirm_payment(first, spent=False, cap=None)
    late = books.pay("JAKE0001", 77, "L" * 81)
    # being swept right now (claimed, not journaled): decided later
    assert not books.grid_books.confirm_payment(late, spent=True, cap=None)
    assert books.grid_books.confirm_payment(late, spent=True, cap=50)
    totals = books.balanced()
    assert (totals["received"], totals["late"], totals["credit"]) == (50, 77, 0)
    assert books.payouts() == {"WIND0001": 40}
    accounts = books.grid_books.accounts()
    assert accounts["consumers"]["JAKE0001"]["late"] == 77
    assert [p["late"] for p in accounts["latePayments"]] == [77]


def test_messages_of_an_unsaved_registration_are_read_again(books: Books) -> None:
    with pytest.raises(LookupError):
        books.read("NOBODY01", Usage(S1.start, S1.end, 1.0))
    books.register("WIND0001", "producer")
    books.read("WIND0001", Usage(S1.start, S1.end, 1.0))  # not a producer's message: ignored
    assert books.grid_books.consumers_to_bill(S1) == []


class _Killed(Exception):
    """Stands for the grid dying right after a billing transaction committed."""


def test_settle_in_chunks_bills_each_consumer_once_even_if_killed_between_chunks(
    books: Books,
) -> None:
    consumers = [f"CONSUMER{n:04d}" for n in range(5)]
    books.register("WIND0001", "producer")
    for consumer in consumers:
        books.register(consumer, "consumer")
        books.read(consumer, Usage(S1.start, S1.end, 0.5))
    books.read("WIND0001", output(S1, 3.0, 100))
    addresses = {c: chr(ord("A") + n) * 81 for n, c in enumerate(consumers)}

    def killed() -> None:
        raise _Killed

    # dies after the first chunk (two consumers) committed
    with pytest.raises(_Killed):
        books.grid_books.settle(S1, addresses, books.book, chunk=2, committed=killed)
    billed = [c for c in consumers if books.requests(c)]
    assert billed == consumers[:2]
    assert books.grid_books.slice_prices()[0]["requests"] == 2
    with pytest.raises(ValueError, match="settled already"):
        books.grid_books.settle(S1, addresses, books.book)
    # the others are billed with the next slice at S1's price, the first two not again
    books.read("WIND0001", output(S2, 3.0, 300))
    assert books.grid_books.consumers_to_bill(S2) == consumers[2:]
    later = {c: chr(ord("K") + n) * 81 for n, c in enumerate(consumers[2:])}
    commits: list[int] = []
    settled = books.grid_books.settle(
        S2, later, books.book, chunk=2, committed=lambda: commits.append(1)
    )
    assert settled.requests == 3 and len(commits) == 2
    assert [p["requests"] for p in books.grid_books.slice_prices()] == [2, 3]  # S1, S2
    for consumer in consumers:
        (request,) = books.requests(consumer)
        assert request.owed == 50 and request.usage == pytest.approx(0.5)  # 0.5 x 100
