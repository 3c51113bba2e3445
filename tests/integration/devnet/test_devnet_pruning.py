"""Local snapshots: old history is pruned so the database stays bounded, and a pruned devnet
restarts with every balance and spent address intact."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from services.devnet.tangle import load_snapshot
from shared.iota.bundle import TOTAL_SUPPLY
from shared.iota.validation import with_checksum
from shared.iota.wallet import Wallet
from tests.support.devnet import DevnetProcess

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

SEED_PAYER = "PRUNING9PAYER" + "9" * 68
SEED_PAYEE = "PRUNING9PAYEE" + "9" * 68
DEPTH = 10


def transaction_rows(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "tangle.sqlite") as db:
        return int(db.execute("select count(*) from transactions").fetchone()[0])


def snapshot_index(devnet: DevnetProcess) -> int:
    return int(
        httpx.get(devnet.api_url + "/health", timeout=5).json()["lastSnapshottedMilestoneIndex"]
    )


def wait_for(check: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.2)


def test_pruned_devnet_restarts_with_balances_and_spent_addresses(tmp_path: Path) -> None:
    data_dir = tmp_path / "devnet"
    devnet = DevnetProcess(
        data_dir,
        milestone_interval=0.25,
        extra_env={"DEVNET_PRUNE_DEPTH": str(DEPTH), "DEVNET_PRUNE_INTERVAL": "0.5"},
    )
    devnet.start()
    try:
        payer = Wallet(
            SEED_PAYER, devnet.api_url, f"sqlite:///{tmp_path / 'payer.db'}", min_weight_magnitude=9
        )
        payee = Wallet(
            SEED_PAYEE, devnet.api_url, f"sqlite:///{tmp_path / 'payee.db'}", min_weight_magnitude=9
        )
        deposit = payer.deposit_address()
        devnet.wait_confirmed([devnet.faucet(with_checksum(deposit), 1000)["tail"]])
        target = payee.new_address("pruning")
        sent = payer.send(300, target)
        assert payer.wait_until_confirmed(sent.tail_hash, timeout=30)
        confirmed_at = devnet.command("getNodeInfo")["latestMilestoneIndex"]
        assert devnet.command("findTransactions", addresses=[deposit])["hashes"]
        # History older than DEPTH milestones goes into the local snapshot.
        wait_for(lambda: snapshot_index(devnet) > confirmed_at)
        assert devnet.command("findTransactions", addresses=[deposit])["hashes"] == []
        info = devnet.command("getNodeInfo")
        assert info["lastSnapshottedMilestoneIndex"] > confirmed_at
        # Bounded: after many more milestones the table holds about DEPTH milestones' worth.
        wait_for(lambda: devnet.command("getNodeInfo")["latestMilestoneIndex"] > 6 * DEPTH)
        assert transaction_rows(data_dir) < 3 * DEPTH
        snapshot = load_snapshot(data_dir / "local-snapshot.txt")  # checks the total supply
        assert snapshot[target] == 300
        assert deposit in (data_dir / "spent-addresses.txt").read_text().split()
        devnet.stop()
        devnet.start()
        balances = devnet.command(
            "getBalances", addresses=[deposit, target, sent.remainder_address]
        )
        assert balances["balances"] == ["0", "300", "700"]
        spent = devnet.command("wereAddressesSpentFrom", addresses=[deposit, target])["states"]
        assert spent == [True, False]
        assert sum(load_snapshot(data_dir / "local-snapshot.txt").values()) == TOTAL_SUPPLY
        # A wallet that lost its database still never hands the spent address out again.
        fresh = Wallet(
            SEED_PAYER, devnet.api_url, f"sqlite:///{tmp_path / 'lost.db'}", min_weight_magnitude=9
        )
        assert fresh.new_address("again") not in (deposit, sent.remainder_address)
        assert payer.balance() == 700
        # ... and the pruned devnet still moves money.
        again = payer.send(100, target)
        assert payer.wait_until_confirmed(again.tail_hash, timeout=30)
        wait_for(lambda: payee.address_balance(target) == 400)
        payer.close()
        payee.close()
        fresh.close()
    finally:
        devnet.stop()
        devnet.kill()
