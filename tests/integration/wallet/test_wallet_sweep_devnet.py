"""Held payment addresses against the real devnet, paid with PyOTA: never an input while
held, swept once into a fresh address when the hold ends, a payment after the sweep
reported as late (never spendable, never counted), and a sweep SIGKILLed at its risky
moments (signed and journaled but not attached; claimed but not journaled) swept exactly
once by the next pass."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from shared.iota.wallet import InsufficientFunds, Wallet
from tests.support.devnet import DevnetProcess, random_seed
from tests.support.pyota_payer import PyotaPayer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[3]


def spending_bundles(devnet: DevnetProcess, address: str) -> set[str]:
    """Bundles on the node that take value out of ``address`` (signed with its key)."""
    hashes = devnet.command("findTransactions", addresses=[address])["hashes"]
    if not hashes:
        return set()
    trytes = devnet.command("getTrytes", hashes=hashes)["trytes"]
    from shared.iota.transaction import parse_many

    return {tx.bundle for tx in parse_many(trytes).transactions if tx.value < 0}


def wait_for(check: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.2)


def test_held_address_is_swept_once_and_a_late_payment_is_reported(
    devnet: DevnetProcess, wallet_db: str
) -> None:
    wallet = Wallet(random_seed(), devnet.api_url, wallet_db, min_weight_magnitude=devnet.mwm)
    payer = PyotaPayer(devnet, 1000)
    held = wallet.new_address("order:1", reserve=True, hold_until=time.time() + 3)
    empty = wallet.new_address("order:2", reserve=True, hold_until=time.time() + 3)
    payer.pay(held, 77)
    assert wallet.address_balance(held) == 77
    # held: never an input, not swept before its time
    with pytest.raises(InsufficientFunds):
        wallet.send(10, random_seed()[:80] + "9")  # the last trit 0: a value address
    assert wallet.sweep_due() == {}
    assert wallet.spendable_balance() == 0 and wallet.balance() == 77

    time.sleep(max(0.0, 3.2 - 0.0))
    swept = wallet.sweep_due()
    assert swept == {held: 77, empty: 0}
    assert wallet.swept_value(held) == 77 and wallet.swept_value(empty) == 0
    wait_for(lambda: wallet.spendable_balance() == 77)
    assert spending_bundles(devnet, held) and len(spending_bundles(devnet, held)) == 1
    assert wallet.sweep_due(time.time() + 3600) == {}  # once: never again

    # a payment after the sweep: reported as late, never counted nor spendable
    assert wallet.late_payments([held, empty]) == {}
    payer.pay(held, 5)
    assert wallet.late_payments([held, empty]) == {held: 5}
    assert wallet.balance() == 77 and wallet.spendable_balance() == 77
    wallet.close()


SCRIPT = textwrap.dedent(
    """
    import sys, time
    from shared.iota.wallet import Wallet

    seed, node, db, mwm, moment = sys.argv[1:6]
    wallet = Wallet(seed, node, db, min_weight_magnitude=int(mwm))
    target = "_attach_recorded" if moment == "journaled" else "_build_bundle"
    original = getattr(Wallet, target)

    def paused(self, *args, **kwargs):
        # the funded sweep's bundle (its inputs' balances, args[5], hold tokens)
        if moment == "journaled" or len(args) > 5 and sum(args[5].values()) > 0:
            print("PAUSED", flush=True)
            time.sleep(600)
        return original(self, *args, **kwargs)

    setattr(Wallet, target, paused)
    wallet.sweep_due()
    """
)


@pytest.mark.parametrize("moment", ["journaled", "claimed"])
def test_sweep_sigkilled_at_its_risky_moment_sweeps_exactly_once(
    devnet: DevnetProcess, wallet_db: str, moment: str
) -> None:
    """``journaled``: signed and recorded, handed to attachToTangle, then SIGKILL (the node
    may or may not have the signature). ``claimed``: the address flagged spent, the bundle
    being built, then SIGKILL (nothing left the process)."""
    seed = random_seed()
    wallet = Wallet(seed, devnet.api_url, wallet_db, min_weight_magnitude=devnet.mwm)
    payer = PyotaPayer(devnet, 1000)
    held = wallet.new_address("order:kill", reserve=True, hold_until=time.time())
    payer.pay(held, 123)
    child = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, seed, devnet.api_url, wallet_db, str(devnet.mwm), moment],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "PAUSED"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert wallet.is_spent(held)  # the claim survived the crash
    # the next pass (a restarted service) finishes or redoes the sweep, never both
    swept = wallet.sweep_due()
    assert swept == ({} if moment == "journaled" else {held: 123})
    wait_for(lambda: wallet.spendable_balance() == 123, 60)
    assert wallet.address_balance(held) == 0
    assert len(spending_bundles(devnet, held)) == 1
    assert wallet.sweep_due(time.time() + 3600) == {}
    assert wallet.balance() == 123
    wallet.close()
