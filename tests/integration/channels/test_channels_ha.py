"""HA mode: two front processes and one background on PostgreSQL, a payer hammering both.

The payer is the library in this process (its own wallet and watcher); the receiver is
three ``services.channels`` processes sharing one PostgreSQL database. The payer then
sends a chain of valid packages, each to both fronts at once and in a shuffled order,
many at a time: whatever interleaving happens, the receiver must never accept more
than was deposited, and every accepted payment is answered and recorded exactly once.
"""

from __future__ import annotations

import asyncio
import random
import secrets
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from shared.channels.node import ChannelConfig, ChannelNode
from shared.channels.rules import sign
from shared.channels.store import ChannelRow, ReceivedPayment
from shared.db import make_engine, make_sessionmaker
from shared.iota.wallet import Wallet
from tests.support.channels import ChannelProcess
from tests.support.devnet import DevnetProcess, random_seed

pytestmark = pytest.mark.timeout(900)

DEPOSIT = 1000
STEP = 10
PACKAGES = 150  # 1500 attempted in total: everything past 1000 must be refused


@pytest.fixture
def receiver(
    devnet: DevnetProcess, postgres_url: str, tmp_path: Path
) -> Iterator[tuple[ChannelProcess, ChannelProcess, ChannelProcess]]:
    key = secrets.token_hex(32)
    common: dict[str, Any] = {"key": key, "database_url": postgres_url}
    background = ChannelProcess("background", devnet, tmp_path / "bg", role="background", **common)
    fronts = [
        ChannelProcess(f"front{n}", devnet, tmp_path / f"front{n}", role="front", **common)
        for n in (1, 2)
    ]
    try:
        background.start()  # creates the tables and writes the payout address
        for front in fronts:
            front.start()
        yield background, fronts[0], fronts[1]
    finally:
        for process in (*fronts, background):
            process.__exit__(None, None, None)


async def _open_channel(
    devnet: DevnetProcess, front: ChannelProcess, tmp: Path
) -> tuple[ChannelNode, str]:
    wallet = Wallet(random_seed(), devnet.api_url, f"sqlite:///{tmp}/payer-wallet.db")
    funding = await asyncio.to_thread(wallet.new_address, "funding")
    paid = await asyncio.to_thread(devnet.faucet, funding, 10_000)
    await asyncio.to_thread(devnet.wait_confirmed, [paid["tail"]], 60)
    payer = ChannelNode(
        Ed25519PrivateKey.generate(),
        f"sqlite:///{tmp}/payer.db",
        ChannelConfig(agent_url=devnet.api_url, public_url="http://127.0.0.1:9/unused"),
        wallet,
    )
    cid = await payer.create_channel(front.peer_url, DEPOSIT, timeout=600)
    return payer, cid


def _package(payer: ChannelNode, cid: str, seq: int) -> dict[str, Any]:
    body = {
        "type": "payment",
        "channel": cid,
        "period": 1,
        "payer": "A",
        "amount_spent": STEP * seq,
        "payment_amount": STEP,
        "seq": seq,
    }
    return sign(payer.key, body)


async def _hammer(
    payer: ChannelNode, cid: str, fronts: list[ChannelProcess]
) -> list[dict[str, Any]]:
    shots = [(seq, front) for seq in range(1, PACKAGES + 1) for front in fronts]
    random.Random(7).shuffle(shots)
    # Mostly in order (so many are accepted), shuffled locally (so fronts race).
    shots.sort(key=lambda shot: shot[0] + random.Random(shot[0]).randint(0, 6))
    accepted: list[dict[str, Any]] = []
    limit = asyncio.Semaphore(16)
    async with httpx.AsyncClient(timeout=30) as client:

        async def shoot(seq: int, front: ChannelProcess) -> None:
            async with limit:
                reply = await client.post(
                    f"{front.peer_url}/pay",
                    json={"package": _package(payer, cid, seq), "message": {"seq": seq}},
                )
            if reply.status_code == 200:
                body = reply.json()
                assert body["accepted"] and body["error"] is None, body
                assert body["response"] == {"received": STEP, "message": {"seq": seq}}, body
                accepted.append({"seq": seq, "front": front.name})
            else:
                assert reply.status_code == 409, reply.text

        await asyncio.gather(*(shoot(seq, front) for seq, front in shots))
    return accepted


def test_two_fronts_never_accept_more_than_the_deposit(
    devnet: DevnetProcess,
    receiver: tuple[ChannelProcess, ChannelProcess, ChannelProcess],
    postgres_url: str,
    tmp_path: Path,
) -> None:
    _background, front1, front2 = receiver

    async def scenario() -> tuple[str, list[dict[str, Any]]]:
        payer, cid = await _open_channel(devnet, front1, tmp_path)
        try:
            for _ in range(300):  # the payer's watcher and the background follow the agent
                await payer.watch_once()
                if front1.status(cid)["amount_deposited_by_peer"] == DEPOSIT:
                    break
                await asyncio.sleep(0.3)
            assert front2.status(cid)["amount_deposited_by_peer"] == DEPOSIT
            return cid, await _hammer(payer, cid, [front1, front2])
        finally:
            await payer.aclose()

    cid, accepted = asyncio.run(scenario())
    # One package sent to both fronts may be answered by both (the second front finds it
    # recorded and repeats the stored answer), so answers are compared with the records.
    seqs = Counter(a["seq"] for a in accepted)
    sessions = make_sessionmaker(make_engine(postgres_url))
    with sessions() as session:
        rows = session.scalars(
            select(ReceivedPayment).where(ReceivedPayment.channel_id == cid)
        ).all()
        channel = session.get(ChannelRow, cid)
    assert channel is not None
    recorded = Counter(row.seq for row in rows)
    assert all(count == 1 for count in recorded.values()), recorded
    assert set(seqs) == set(recorded)  # every answer is a recorded payment
    assert all(row.answered and row.error is None for row in rows)
    # What the receiver can claim on the ledger is the highest cumulative total it took;
    # packages the race skipped are in it too (the payer signed them), so the answered
    # payment amounts add up to at most that, and that never exceeds the deposit.
    total = sum(row.amount for row in rows)
    assert channel.received == max(recorded) * STEP
    assert total <= channel.received <= DEPOSIT, (total, channel.received)
    assert {row.front for row in rows} <= {"front1", "front2"}
    assert len(rows) >= 20, "the hammer should get many payments through"
    state = front2.status(cid)
    assert state["amount_spent_by_peer"] == channel.received
    assert state["peer_payments_count"] == len(rows)
