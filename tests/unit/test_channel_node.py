"""A channel node's payer and receiver rules (shared/channels/node.py), two nodes in one process.

The payer reaches the receiver's real router through httpx's ASGI transport; the agent's
part (crediting deposits) is done by writing the deposits the watcher would copy.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.channels.node import (
    ChannelConfig,
    ChannelError,
    ChannelNode,
    PaymentError,
    PaymentRefused,
    public_key_hex,
)
from shared.channels.router import channel_router
from shared.channels.rules import ChannelDefinition, PartyDef, sign

ADDR_A = "A" * 80 + "9"
ADDR_B = "B" * 80 + "9"


class Pair:
    def __init__(self, tmp: Path) -> None:
        config = ChannelConfig(agent_url="http://agent.invalid", public_url="http://a/peer")
        self.a = ChannelNode(Ed25519PrivateKey.generate(), f"sqlite:///{tmp}/a.db", config)
        self.b = ChannelNode(Ed25519PrivateKey.generate(), f"sqlite:///{tmp}/b.db", config)
        self.definition = ChannelDefinition(
            PartyDef(ADDR_A, self.a.pubkey), PartyDef(ADDR_B, self.b.pubkey), 60, "s1"
        )
        self.cid = self.definition.channel_id
        self.a._core.insert_channel(self.definition, "A", "http://b/peer", None)
        self.b._core.insert_channel(self.definition, "B", "http://a/peer", None)
        for node, mine, theirs in ((self.a, 100, 0), (self.b, 0, 100)):
            node._core.set(
                self.cid,
                deposited_by_me=mine,
                deposited_by_peer=theirs,
                status="open",
                registered=True,
            )
        app = FastAPI()
        app.include_router(channel_router(self.b), prefix="/peer")
        self.answers: list[tuple[int, Any]] = []

        def answer(amount: int, message: Any, channel: str) -> Any:
            if message == "fail":
                raise ValueError("no such product")
            self.answers.append((amount, message))
            return {"ok": amount, "echo": message}

        self.b.on_payment(answer)
        self.b_http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
        self.a.use_http_client(self.b_http)

    def package(self, key: Ed25519PrivateKey, **over: Any) -> dict[str, Any]:
        body = {
            "type": "payment",
            "channel": self.cid,
            "period": 1,
            "payer": "A",
            "amount_spent": 5,
            "payment_amount": 5,
            "seq": 1,
            **over,
        }
        return sign(key, body)

    async def post(self, package: Any) -> httpx.Response:
        return await self.b_http.post("http://b/peer/pay", json={"package": package})


@pytest.fixture
def pair(tmp_path: Path) -> Pair:
    return Pair(tmp_path)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_payments_answered_and_counted(pair: Pair) -> None:
    async def go() -> None:
        for i in range(10):
            assert await pair.a.pay(pair.cid, 3, {"n": i}) == {"ok": 3, "echo": {"n": i}}
        with pytest.raises(PaymentError, match="no such product"):
            await pair.a.pay(pair.cid, 1, "fail")

    run(go())
    a = pair.a.balances_and_status(pair.cid)
    b = pair.b.balances_and_status(pair.cid)
    assert a["amount_spent_by_me"] == b["amount_spent_by_peer"] == 31
    assert a["free_amount"] == 69 and b["free_amount"] == 31
    assert a["my_payments_count"] == b["peer_payments_count"] == 11
    assert a["my_payments_unanswered"] == 0
    assert len(pair.answers) == 10


def test_hot_path_rows_read_back_through_the_orm(pair: Pair) -> None:
    """The SQLite fast path (DBAPI cursor) writes what the ORM reads: JSON, ints, flags."""
    from sqlalchemy import select

    from shared.channels.store import ChannelRow, ReceivedPayment, SentPayment

    async def go() -> None:
        await pair.a.pay(pair.cid, 2, {"n": "\u00e9", "list": [1, None]})
        await pair.a.pay(pair.cid, 3)  # message None: stored as JSON null
        await pair.a.pay(pair.cid, 4, "third")

    run(go())
    pair.a.flush_answers()
    with pair.a._core.sessions() as session:
        sent = session.scalars(select(SentPayment).order_by(SentPayment.seq)).all()
        row_a = session.get(ChannelRow, pair.cid)
    with pair.b._core.sessions() as session:
        received = session.scalars(select(ReceivedPayment).order_by(ReceivedPayment.seq)).all()
        row_b = session.get(ChannelRow, pair.cid)
    assert [(s.seq, s.amount, s.message, s.status) for s in sent] == [
        (1, 2, {"n": "\u00e9", "list": [1, None]}, "answered"),
        (2, 3, None, "answered"),
        (3, 4, "third", "answered"),
    ]
    assert sent[1].response == {"ok": 3, "echo": None}
    assert [r.package for r in received] == [s.package for s in sent]
    assert [(r.amount, r.answered, r.response, r.error) for r in received][2] == (
        4,
        True,
        {"ok": 4, "echo": "third"},
        None,
    )
    assert received[2].front == pair.b.config.name and received[2].created_at > 0
    assert row_a is not None and row_b is not None
    assert (row_a.my_seq, row_a.spent_by_me) == (3, 9)
    assert (row_b.peer_seq, row_b.received, row_b.evidence) == (3, 9, sent[2].package)


def test_message_must_be_strict_json(pair: Pair) -> None:
    async def go() -> None:
        for bad in (float("nan"), {"x": float("inf")}, {1, 2}):
            with pytest.raises(ChannelError, match="must be JSON"):
                await pair.a.pay(pair.cid, 1, bad)
        assert await pair.a.pay(pair.cid, 1, {"ok": 1.5}) == {"ok": 1, "echo": {"ok": 1.5}}

    run(go())
    assert pair.a.balances_and_status(pair.cid)["my_payments_count"] == 1


def test_never_above_the_deposit(pair: Pair) -> None:
    async def go() -> None:
        await pair.a.pay(pair.cid, 90)
        with pytest.raises(ChannelError, match="free balance"):
            await pair.a.pay(pair.cid, 11)
        # A forged package (signed by A, bypassing A's own check) above the deposit.
        reply = await pair.post(
            pair.package(pair.a.key, amount_spent=101, payment_amount=11, seq=2)
        )
        assert reply.status_code == 409 and "above what the peer has" in reply.json()["error"]

    run(go())
    assert pair.b.balances_and_status(pair.cid)["amount_spent_by_peer"] == 90


def test_replay_stale_and_foreign_packages_refused(pair: Pair) -> None:
    async def go() -> None:
        first = pair.package(pair.a.key)
        ok = await pair.post(first)
        assert ok.status_code == 200 and ok.json()["accepted"]
        # The identical package again (a payer's retry): same answer, no second credit.
        again = await pair.post(first)
        assert again.json() == ok.json()
        bad: list[tuple[dict[str, Any], str]] = [
            (pair.package(pair.a.key, seq=1, amount_spent=9, payment_amount=4), "stale"),
            (pair.package(pair.a.key, seq=2, amount_spent=5, payment_amount=1), "at least"),
            (pair.package(pair.a.key, seq=2, period=2, amount_spent=9), "wrong period"),
            (pair.package(pair.a.key, seq=2, channel="0" * 64, amount_spent=9), "unknown"),
            (pair.package(pair.b.key, seq=2, amount_spent=9, payment_amount=4), "signature"),
            (pair.package(Ed25519PrivateKey.generate(), seq=2, amount_spent=9), "signature"),
            (pair.package(pair.a.key, seq=2, payer="B", amount_spent=9), "not a payment"),
            (pair.package(pair.a.key, seq=2, amount_spent=9, payment_amount=0), "at least"),
            (pair.package(pair.a.key, seq=2, amount_spent=-1, payment_amount=1), "non-negative"),
            ({"body": "x", "sig": "y"}, "not a signed package"),
        ]
        for package, reason in bad:
            reply = await pair.post(package)
            assert reply.status_code == 409, (reason, reply.text)
            assert reason in reply.json()["error"], (reason, reply.json())

    run(go())
    b = pair.b.balances_and_status(pair.cid)
    assert b["amount_spent_by_peer"] == 5 and b["peer_payments_count"] == 1
    assert pair.answers == [(5, None)]


def test_unanswered_package_is_sent_again_first(pair: Pair, tmp_path: Path) -> None:
    """The payer crashed after writing a package: the restarted payer delivers it first."""

    async def go() -> None:
        _sent, fresh = await asyncio.to_thread(pair.a._payer.next_package, pair.cid, 7, "lost", [])
        assert fresh
        # A new process on the same database (nothing in memory).
        config = ChannelConfig(agent_url="http://agent.invalid", public_url="http://a/peer")
        again = ChannelNode(
            pair.a.key, f"sqlite:///{tmp_path}/a.db", config, http_client=pair.b_http
        )
        assert await again.pay(pair.cid, 2, "next") == {"ok": 2, "echo": "next"}

    run(go())
    assert pair.answers == [(7, "lost"), (2, "next")]
    assert pair.b.balances_and_status(pair.cid)["amount_spent_by_peer"] == 9


def test_no_payment_while_closing(pair: Pair) -> None:
    async def go() -> None:
        await pair.a.pay(pair.cid, 1)
        pair.b._core.set(pair.cid, status="closing_by_peer")
        with pytest.raises(PaymentRefused, match="closing"):
            await pair.a.pay(pair.cid, 1)
        await pair.a.close(pair.cid)
        with pytest.raises(ChannelError, match="a close was requested") as refused:
            await pair.a.pay(pair.cid, 1)
        assert "is open" not in str(refused.value)  # it said "the channel is open: no payments"

    run(go())


def test_create_request_checked(pair: Pair) -> None:
    good = {
        "pubkey": public_key_hex(Ed25519PrivateKey.generate()),
        "address": ADDR_A,
        "timeout": 60,
        "salt": "x1",
        "url": "http://c/peer",
    }
    with pytest.raises(ChannelError, match="payout address"):
        pair.b.accept_create(good)  # the background has not written one yet
    from shared.channels.node import ConfigRow

    with pair.b._core.sessions.begin() as session:
        session.add(ConfigRow(key="payout_address", value=ADDR_B))
    answer = pair.b.accept_create(good)
    assert answer["pubkey"] == pair.b.pubkey and len(answer["channel_id"]) == 64
    for change, reason in (
        ({"timeout": 0}, "timeout"),
        ({"timeout": "60"}, "timeout"),
        ({"url": "ftp://x"}, "url"),
        ({"pubkey": "zz"}, "pubkey"),
        ({"address": "x"}, "address"),
        ({"salt": ""}, "salt"),
    ):
        with pytest.raises(ChannelError, match=reason):
            pair.b.accept_create({**good, **change})


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=_json)
def test_fuzzed_pay_requests_refused_cleanly(pair: Pair, body: Any) -> None:
    async def go() -> httpx.Response:
        return await pair.b_http.post("http://b/peer/pay", json=body)

    reply = run(go())
    assert reply.status_code in (409, 422), reply.text
    assert pair.b.balances_and_status(pair.cid)["peer_payments_count"] == 0
