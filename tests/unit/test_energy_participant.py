"""Participant and consumer bookkeeping with an in-memory tangle: hello first, each slice
published once across restarts, goodbye for good, and each payment request paid once even
when the consumer dies between committing `sending` and recording the transfer."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from services.consumer.settings import ConsumerSettings
from shared.db import make_engine, make_sessionmaker, sqlite_url
from shared.energy.buyer import Buyer, PaymentRow
from shared.energy.messages import Goodbye, Hello, Output, decode_trytes
from shared.energy.participant import Participant
from shared.energy.party import Party
from shared.energy.roles import BUYER
from shared.energy.slices import Slice
from shared.mam.channel import parse_message

SEED = "A" * 81


class FakeNode:
    """Keeps what is 'attached' like a node would: send_trytes returns the trytes."""

    def __init__(self) -> None:
        self.sent: list[list[str]] = []

    def send_trytes(self, trytes: list[str], depth: int, mwm: int) -> list[str]:
        self.sent.append(list(trytes))
        return list(trytes)

    def close(self) -> None:
        pass


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test on SQLite (the default) and on PostgreSQL (DATABASE_URL)."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path, "p")
    return str(request.getfixturevalue("postgres_url"))


def participant(url: str, node: FakeNode, clock: list[int]) -> Participant:
    sessions = make_sessionmaker(make_engine(url))
    return Participant(
        sessions,
        node,  # type: ignore[arg-type]
        item_name="wind",
        item_type="wind",
        slice_seconds=10,
        clock=lambda: clock[0],
    )


def messages(p: Participant) -> list[Any]:
    """Every queued message of the own channel, decoded along the chain from its root."""
    from shared.energy.channels import OutboxMessage

    state = p.state()
    with p.sessions() as session:
        rows = list(session.query(OutboxMessage).order_by(OutboxMessage.id))
    out, root = [], state.root
    for row in rows:
        assert row.root == root
        parsed = parse_message(row.payload, root, state.side_key)
        out.append(decode_trytes(parsed.message))
        root = parsed.next_root
    return out


def test_hello_first_then_each_slice_once_across_restarts(db_url: str) -> None:
    node, clock = FakeNode(), [1_000_005_000]
    first = participant(db_url, node, clock)
    state = first.setup()
    assert state.pending == 0 and len(node.sent) == 1  # hello attached
    assert first.due_slices() == []  # the first start begins with the slice in progress

    def build(session: Any, period: Slice) -> Output:
        return Output(period.start, period.end, 1.5)

    clock[0] += 20_000
    due = first.due_slices()
    assert due == [Slice(1_000_000_000, 1_000_010_000), Slice(1_000_010_000, 1_000_020_000)]
    first.publish_slice(due[0], build)
    # "killed" here; a new process sees the same id and channel and goes on after slice 1
    again = participant(db_url, node, clock)
    assert again.setup().registration_id == state.registration_id
    assert again.setup().root == state.root
    assert again.due_slices() == [due[1]]
    assert again.publish_slice(due[0], build) is None  # already published: ignored
    again.publish_slice(due[1], build)
    again.flush()
    decoded = messages(again)
    assert isinstance(decoded[0], Hello)
    assert [m.start_time for m in decoded[1:]] == [d.start for d in due]


def test_catch_up_is_bounded(db_url: str) -> None:
    node, clock = FakeNode(), [0]
    p = participant(db_url, node, clock)
    p.catch_up = 3
    p.setup()
    p.due_slices()
    clock[0] = 1_000_000
    due = p.due_slices()
    assert len(due) == 3 and due[-1].end <= clock[0]


@pytest.mark.asyncio
async def test_goodbye_is_for_good(db_url: str) -> None:
    node, clock = FakeNode(), [10_000]
    p = participant(db_url, node, clock)
    p.setup()
    assert await p.retire() is True
    assert await p.retire() is False
    clock[0] += 60_000
    assert p.due_slices() == []
    assert isinstance(messages(p)[-1], Goodbye)
    assert p.state().retired


def test_concurrent_writers_never_share_a_leaf(db_url: str) -> None:
    """The slice loop and a goodbye from the API write at once: one leaf per message."""
    import threading

    node, clock = FakeNode(), [0]
    p = participant(db_url, node, clock)
    p.setup()
    p.due_slices()
    periods = [Slice(i * 10_000, (i + 1) * 10_000) for i in range(12)]

    def publish(chunk: list[Slice]) -> None:
        for period in chunk:
            p.publish_slice(period, lambda _s, per: Output(per.start, per.end, 1.0))

    threads = [threading.Thread(target=publish, args=(periods[i::3],)) for i in range(3)]
    threads.append(threading.Thread(target=p._retire_locally))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    decoded = messages(p)  # asserts each message sits at the root its predecessor names
    assert isinstance(decoded[0], Hello) and isinstance(decoded[-1], Goodbye)
    from shared.energy.channels import OutboxMessage

    with p.sessions() as session:
        roots = [row.root for row in session.query(OutboxMessage)]
    assert len(roots) == len(set(roots))


# -- the consumer's payments ------------------------------------------------------------


@dataclass
class FakeTx:
    address: str
    value: int
    bundle: str
    hash: str
    current_index: int = 0


@dataclass
class Tangle:
    transfers: list[FakeTx] = field(default_factory=list)


class PayNode(FakeNode):
    def __init__(self, tangle: Tangle) -> None:
        super().__init__()
        self.tangle = tangle

    def find_transactions(self, addresses: list[str]) -> list[str]:
        return [tx.hash for tx in self.tangle.transfers if tx.address in addresses]

    def get_trytes(self, hashes: list[str]) -> list[str]:
        return hashes


@dataclass
class SendResult:
    bundle_hash: str
    tail_hash: str


class FakeWallet:
    """Sends onto the fake tangle; ``die_after_send`` raises like a SIGKILL would stop us."""

    def __init__(self, tangle: Tangle, balance: int) -> None:
        self.tangle = tangle
        self.funds = balance
        self.die_after_send = False

    def send(self, value: int, to: str, *, tag: str = "") -> SendResult:
        from shared.iota.wallet import InsufficientFunds

        if value > self.funds:
            raise InsufficientFunds(value, self.funds)
        self.funds -= value
        n = len(self.tangle.transfers)
        tx = FakeTx(to, value, f"B{n}".ljust(81, "9"), f"T{n}".ljust(81, "9"))
        self.tangle.transfers.append(tx)
        if self.die_after_send:
            raise SystemExit("killed after the transfer was stored")
        return SendResult(tx.bundle, tx.hash)

    def is_confirmed(self, tail: str) -> bool:
        return True


def consumer(db_url: str, tangle: Tangle, wallet: FakeWallet) -> Buyer:
    settings = ConsumerSettings.model_validate(
        {"seed": SEED, "database_url": db_url, "slice_seconds": 10}
    )
    c = Buyer(Party(settings, role=BUYER, kind="consumer"), settings)
    c.node = PayNode(tangle)  # type: ignore[assignment]
    c.wallet = wallet
    return c


def parse_many_fake(monkeypatch: pytest.MonkeyPatch, tangle: Tangle) -> None:
    import shared.energy.buyer as app

    @dataclass
    class Batch:
        transactions: list[FakeTx]

    def parse(hashes: list[str]) -> Batch:
        return Batch([tx for tx in tangle.transfers if tx.hash in hashes])

    monkeypatch.setattr(app, "parse_many", parse)


def add_request(c: Buyer, owed: int, address: str) -> None:
    with c.sessions.begin() as session:
        session.add(PaymentRow(owed=owed, usage=1.0, address=address, state="new"))


def states(c: Buyer) -> list[tuple[str, int | None]]:
    with c.sessions() as session:
        return [(r.state, r.amount) for r in session.query(PaymentRow).order_by(PaymentRow.id)]


def test_newest_request_covers_older_ones(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    tangle = Tangle()
    parse_many_fake(monkeypatch, tangle)
    c = consumer(db_url, tangle, FakeWallet(tangle, 1000))
    add_request(c, 10, "X" * 81)
    add_request(c, 25, "Y" * 81)
    assert c.pay_next() == "paid"
    assert c.pay_next() == "idle"
    assert states(c) == [("superseded", 0), ("sent", 25)]
    assert [(t.address, t.value) for t in tangle.transfers] == [("Y" * 81, 25)]
    add_request(c, 0, "Z" * 81)
    assert c.pay_next() == "nothing"
    add_request(c, 5, "not-an-address")
    assert c.pay_next() == "unpayable"


def test_killed_after_sending_pays_nothing_twice(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tangle = Tangle()
    parse_many_fake(monkeypatch, tangle)
    wallet = FakeWallet(tangle, 1000)
    first = consumer(db_url, tangle, wallet)
    add_request(first, 40, "W" * 81)
    wallet.die_after_send = True
    with pytest.raises(SystemExit):
        first.pay_next()
    assert states(first) == [("sending", 40)]
    # restarted: the transfer is found on the tangle, not sent again
    wallet.die_after_send = False
    again = consumer(db_url, tangle, wallet)
    assert again.pay_next() == "paid"
    assert states(again) == [("sent", 40)]
    assert len(tangle.transfers) == 1 and wallet.funds == 960
    assert again.confirm_sent() == 1 and states(again) == [("confirmed", 40)]


def test_killed_before_the_transfer_left_sends_it_once(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tangle = Tangle()
    parse_many_fake(monkeypatch, tangle)
    wallet = FakeWallet(tangle, 1000)
    c = consumer(db_url, tangle, wallet)
    add_request(c, 40, "V" * 81)
    with c.sessions.begin() as session:  # the state a kill right after the commit leaves
        row = session.query(PaymentRow).one()
        row.state, row.amount = "sending", 40
    assert c.pay_next() == "paid"
    assert c.pay_next() == "idle"
    assert [(t.address, t.value) for t in tangle.transfers] == [("V" * 81, 40)]


def test_no_funds_reopens_the_request(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    tangle = Tangle()
    parse_many_fake(monkeypatch, tangle)
    wallet = FakeWallet(tangle, 10)
    c = consumer(db_url, tangle, wallet)
    add_request(c, 40, "U" * 81)
    assert c.pay_next() == "funds"
    assert states(c) == [("new", 40)]
    wallet.funds = 100
    assert c.pay_next() == "paid"
    assert len(tangle.transfers) == 1
