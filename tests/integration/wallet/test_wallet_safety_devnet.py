"""Money stays safe against the real devnet: an overpaid queued order is not swept by a
payout, and a failed attachToTangle is recovered by sending the same signed bundle again."""

from __future__ import annotations

import time
from typing import Any

import pytest
from iota.adapter import HttpAdapter

from shared.iota.validation import with_checksum
from shared.iota.wallet import InsufficientFunds, NodeError, Wallet
from tests.support.devnet import DevnetProcess
from tests.support.postgres import SQLITE_ONLY

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240), SQLITE_ONLY]

# Test-only seeds: they never hold anything but devnet tokens.
SEED_ROBOT = "WALLET9SAFETY9ROBOT" + "9" * 62
SEED_PROVIDER = "WALLET9SAFETY9PROVIDER" + "9" * 59
SEED_PAYER = "WALLET9SAFETY9PAYER" + "9" * 62


class FlakyAdapter(HttpAdapter):
    """The real HTTP adapter, except that the next ``fail_attach`` attachToTangle calls fail
    after reaching the node (the reply is lost): the node has seen the signatures."""

    fail_attach = 0

    def send_request(self, payload: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        reply: dict[str, Any] = super().send_request(payload, **kwargs)
        if payload.get("command") == "attachToTangle" and self.fail_attach:
            self.fail_attach -= 1
            raise ConnectionError("connection reset while reading the attachToTangle reply")
        return reply


def wait_for(check: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.2)


def test_overpaid_queued_order_is_not_swept(devnet: DevnetProcess, wallet_db: str) -> None:
    robot = Wallet(SEED_ROBOT, devnet.api_url, wallet_db, min_weight_magnitude=devnet.mwm)
    provider = Wallet(SEED_PROVIDER, devnet.api_url, wallet_db, min_weight_magnitude=devnet.mwm)
    head = robot.new_address("order:head", reserve=True)
    queued = robot.new_address("order:queued", reserve=True)
    paid = [devnet.faucet(with_checksum(head), 100), devnet.faucet(with_checksum(queued), 500)]
    devnet.wait_confirmed([p["tail"] for p in paid])
    robot.release(head)  # the head order is paid and confirmed: it is served now
    payout_to = provider.new_address("energy")
    result = robot.send(10, payout_to, tag="PAYOUT")
    assert result.inputs == [head]
    assert robot.wait_until_confirmed(result.tail_hash, timeout=30)
    assert provider.address_balance(payout_to) == 10
    # The queued order's 500 are where its customer sent them, never signed away.
    assert robot.address_balance(queued) == 500
    spent = devnet.command("wereAddressesSpentFrom", addresses=[queued])["states"]
    assert spent == [False]
    assert robot.balance() == 590
    with pytest.raises(InsufficientFunds):
        robot.send(100, payout_to)  # only 90 are free; 500 are held for the queued order
    robot.close()
    provider.close()


def test_attach_failure_then_recovery_sends_the_same_bundle(
    devnet: DevnetProcess, wallet_db: str
) -> None:
    adapter = FlakyAdapter(devnet.api_url, timeout=60)
    payer = Wallet(
        SEED_PAYER, devnet.api_url, wallet_db, min_weight_magnitude=devnet.mwm, adapter=adapter
    )
    payee = Wallet(SEED_PROVIDER, devnet.api_url, wallet_db, min_weight_magnitude=devnet.mwm)
    deposit = payer.deposit_address()
    devnet.wait_confirmed([devnet.faucet(with_checksum(deposit), 1000)["tail"]])
    to = payee.new_address("energy:recovery")
    adapter.fail_attach = 1
    with pytest.raises(NodeError, match="attachToTangle"):
        payer.send(250, to, tag="RECOVERY")
    [pending] = payer.pending_sends()
    assert payer.is_spent(deposit)
    # The caller retries the same payment: the same signed bundle goes out again.
    result = payer.send(250, to, tag="RECOVERY")
    assert result.bundle_hash == pending.bundle_hash
    assert payer.wait_until_confirmed(result.tail_hash, timeout=30)
    wait_for(lambda: payee.address_balance(to) == 250)
    assert payer.balance() == 750
    bundles = devnet.command("findTransactions", addresses=[deposit])["hashes"]
    trytes = devnet.command("getTrytes", hashes=bundles)["trytes"]
    signed = {t[2349:2430] for t in trytes if t[:2187] != "9" * 2187}
    assert signed == {pending.bundle_hash}  # the spent input signed exactly one bundle
    payer.close()
    payee.close()
