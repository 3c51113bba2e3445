"""The shared wallet and ZMQ feed against a real devnet process (PyOTA 2.1.0 over HTTP).

The tests in this module share one devnet and one wallet database and run in
order: funding, a transfer with remainder, the refusal paths, then a SIGKILL of
the devnet in the middle of it all.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from shared.iota.validation import with_checksum
from shared.iota.wallet import InsufficientFunds, SendResult, Wallet, WalletError
from shared.iota.zmq_feed import ZmqFeed
from shared.iota.zmq_lines import (
    AddressConfirmation,
    LatestMilestoneIndex,
    TransactionConfirmed,
    TransactionSeen,
)
from tests.support.audit import Economy
from tests.support.devnet import DevnetProcess

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

# Test-only seeds: they never hold anything but devnet tokens.
SEED_A = "WALLET9INTEGRATION9SEED9A" + "9" * 56
SEED_B = "WALLET9INTEGRATION9SEED9B" + "9" * 56

STATE: dict[str, object] = {}


def wallet_for(seed: str, devnet: DevnetProcess, db: str) -> Wallet:
    return Wallet(seed, devnet.api_url, db, min_weight_magnitude=devnet.mwm)


def wait_for_balance(wallet: Wallet, expected: int, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    balance = wallet.balance()
    while balance != expected and time.monotonic() < deadline:
        time.sleep(0.2)
        balance = wallet.balance()
    return balance


def test_faucet_funds_the_deposit_address(devnet: DevnetProcess, wallet_db: str) -> None:
    wallet_a = wallet_for(SEED_A, devnet, wallet_db)
    deposit = wallet_a.deposit_address()
    devnet.faucet(with_checksum(deposit), 1000)
    assert wait_for_balance(wallet_a, 1000) == 1000
    assert wallet_a.address_balance(deposit) == 1000
    STATE["deposit"] = deposit


async def test_send_with_remainder_confirms_and_zmq_reports_it(
    devnet: DevnetProcess, wallet_db: str
) -> None:
    wallet_a = wallet_for(SEED_A, devnet, wallet_db)
    wallet_b = wallet_for(SEED_B, devnet, wallet_db)
    deposit = str(STATE["deposit"])
    to = await asyncio.to_thread(wallet_b.new_address, "order:1")

    async with ZmqFeed(devnet.zmq_url, ("tx", "sn")) as feed:
        feed.subscribe(to)
        await asyncio.sleep(0.3)  # let the SUB socket join before anything is published
        result: SendResult = await asyncio.to_thread(
            wallet_a.send, 300, with_checksum(to), tag="WALLET9TEST", message="order 1"
        )
        seen_tx: TransactionSeen | None = None
        confirmed: TransactionConfirmed | None = None
        address_event: AddressConfirmation | None = None

        async def collect() -> None:
            nonlocal seen_tx, confirmed, address_event
            async for event in feed:
                if isinstance(event, TransactionSeen) and event.address == to:
                    seen_tx = event
                elif isinstance(event, TransactionConfirmed) and event.hash == result.tail_hash:
                    confirmed = event
                elif isinstance(event, AddressConfirmation) and event.address == to:
                    address_event = event
                if seen_tx and confirmed and address_event:
                    return

        await asyncio.wait_for(collect(), 30)

    assert await asyncio.to_thread(wallet_a.wait_until_confirmed, result.tail_hash, 30.0)
    assert result.to == to and result.value == 300
    assert result.inputs == [deposit]
    assert result.remainder_address not in (None, deposit, to)

    assert seen_tx is not None and confirmed is not None and address_event is not None
    assert seen_tx.value == 300
    assert seen_tx.bundle == result.bundle_hash
    assert seen_tx.tag == "WALLET9TEST" + "9" * 16
    assert confirmed.bundle == result.bundle_hash
    assert confirmed.milestone_index >= 1
    assert address_event.milestone_index >= 1

    assert wallet_a.balance() == 700
    assert wallet_a.address_balance(result.remainder_address or "") == 700
    assert wallet_a.address_balance(deposit) == 0
    assert wallet_b.balance() == 300
    # The node agrees the input is spent, and the wallet never hands it out again.
    spent = devnet.command("wereAddressesSpentFrom", addresses=[deposit])["states"]
    assert spent == [True]
    assert wallet_a.is_spent(deposit)
    assert wallet_a.deposit_address() != deposit
    assert deposit not in {wallet_a.new_address("order:x") for _ in range(2)}
    STATE["result"] = result
    # Nothing created, nothing lost: each wallet's own records (1000 received, 300 sent;
    # 300 received) equal what it holds, and with the faucet they hold the whole supply.
    economy = Economy(devnet.api_url)
    economy.books_of("A", wallet_a)
    economy.books_of("B", wallet_b)
    audit = await asyncio.to_thread(economy.check)
    assert (audit.row("A").books, audit.row("B").books) == (700, 300)


def test_refusals_leave_balances_alone(devnet: DevnetProcess, wallet_db: str) -> None:
    wallet_a = wallet_for(SEED_A, devnet, wallet_db)
    target = wallet_for(SEED_B, devnet, wallet_db).new_address("order:2")
    with pytest.raises(InsufficientFunds) as info:
        wallet_a.send(701, target)
    assert info.value.available == 700
    with pytest.raises(WalletError, match="checksum"):
        wallet_a.send(1, target[:-1] + ("A" if target[-1] != "A" else "B") + "9" * 9)
    assert wallet_a.balance() == 700
    assert wallet_a.spendable_balance() == 700


def test_key_index_and_balances_survive_restarts(devnet: DevnetProcess, wallet_db: str) -> None:
    first = wallet_for(SEED_A, devnet, wallet_db)
    handed_out = {row.address for row in first.addresses()}
    first.close()
    devnet.kill()  # SIGKILL
    devnet.start()
    again = wallet_for(SEED_A, devnet, wallet_db)
    fresh = again.new_address("after-restart")
    assert fresh not in handed_out
    assert again.balance() == 700
    assert wallet_for(SEED_B, devnet, wallet_db).balance() == 300
    result = STATE["result"]
    assert isinstance(result, SendResult)
    assert again.is_confirmed(result.tail_hash)


@pytest.mark.parametrize("security", [1, 3])
def test_every_security_level_signs_bundles_the_devnet_accepts(
    devnet: DevnetProcess, wallet_db: str, security: int
) -> None:
    """The devnet checks the bundle hash and every signature fragment (1 and 3 of them)."""
    level = "9ABC"[security]
    payer = Wallet(
        f"WALLET9LEVEL{level}9PAYER".ljust(81, "9"),
        devnet.api_url,
        wallet_db,
        security=security,
        min_weight_magnitude=devnet.mwm,
    )
    payee = Wallet(
        f"WALLET9LEVEL{level}9PAYEE".ljust(81, "9"),
        devnet.api_url,
        wallet_db,
        security=security,
        min_weight_magnitude=devnet.mwm,
    )
    deposit = payer.deposit_address()
    devnet.faucet(with_checksum(deposit), 50)
    assert wait_for_balance(payer, 50) == 50
    result = payer.send(20, payee.new_address("order:level"), tag="LEVEL", message="level")
    assert payer.wait_until_confirmed(result.tail_hash, 30.0)
    assert wait_for_balance(payee, 20) == 20
    assert payer.balance() == 30
    assert payer.address_balance(result.remainder_address or "") == 30
    trytes = devnet.command("getTrytes", hashes=[result.tail_hash])["trytes"][0]
    assert trytes[2349:2430] == result.bundle_hash
    bundle = devnet.command("findTransactions", bundles=[result.bundle_hash])["hashes"]
    assert len(bundle) == 1 + security + 1  # output, one fragment per level, remainder


async def test_zmq_feed_follows_a_restarted_devnet(devnet: DevnetProcess) -> None:
    async with ZmqFeed(devnet.zmq_url, ("lmi",), reconnect_interval=0.1) as feed:
        first = await asyncio.wait_for(feed.receive(), 15)  # milestones keep coming
        assert isinstance(first, LatestMilestoneIndex)
        await asyncio.to_thread(devnet.kill)
        await asyncio.to_thread(devnet.start)
        after_start = int(devnet.command("getNodeInfo")["latestMilestoneIndex"])
        # Only the new process can publish an index above the one it reported after start.
        while True:
            event = await asyncio.wait_for(feed.receive(), 15)
            assert isinstance(event, LatestMilestoneIndex)
            if event.latest > after_start:
                break
