"""Acceptance: a devnet killed with SIGKILL keeps everything it acknowledged."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.iota.bundle import Output, build_bundle
from shared.iota.signing import address_of
from shared.iota.transaction import parse_many
from tests.support.devnet import DevnetProcess, random_seed

pytestmark = pytest.mark.integration


def test_sigkill_between_milestones_loses_nothing(tmp_path: Path, database_url: str) -> None:
    """On SQLite and on PostgreSQL (DEVNET_DATABASE_URL)."""
    devnet = DevnetProcess(
        tmp_path / "devnet",
        milestone_interval=1.5,
        extra_env={"DEVNET_DATABASE_URL": database_url},
    )
    try:
        devnet.start()
        receivers = [address_of(random_seed(), 0, 2) for _ in range(2)]
        payments = [devnet.faucet(receivers[0], 1234), devnet.faucet(receivers[1], 99)]
        tails = [p["tail"] for p in payments]
        devnet.wait_confirmed(tails)
        faucet_before = devnet.command("getNodeInfo")
        confirmed_index = faucet_before["latestMilestoneIndex"]
        all_hashes = [h for p in payments for h in p["transactions"]]

        # Stored (acknowledged) but not yet confirmed when the kill comes.
        message = build_bundle([Output(receivers[0], 0, message="KILLED9BEFORE9CONFIRMED")])
        tips = devnet.command("getTransactionsToApprove", depth=3)
        attached = devnet.command(
            "attachToTangle",
            trunkTransaction=tips["trunkTransaction"],
            branchTransaction=tips["branchTransaction"],
            minWeightMagnitude=9,
            trytes=message,
        )["trytes"]
        devnet.command("storeTransactions", trytes=attached)
        devnet.kill()

        devnet.start()
        info = devnet.command("getNodeInfo")
        assert info["latestMilestoneIndex"] >= confirmed_index
        assert devnet.command("getInclusionStates", transactions=all_hashes)["states"] == [
            True
        ] * len(all_hashes)
        balances = devnet.command("getBalances", addresses=receivers)["balances"]
        assert balances == ["1234", "99"]
        message_hash = parse_many(attached).transactions[0].hash
        assert devnet.command("getTrytes", hashes=[message_hash])["trytes"] == attached
        unconfirmed_hash = devnet.command("findTransactions", addresses=[receivers[0]])["hashes"]
        assert len(unconfirmed_hash) == 2  # the payment and the zero-value message
        devnet.wait_confirmed(unconfirmed_hash)

        # The faucet continues from its next key index: its spent addresses stay spent.
        faucet_seed = devnet.faucet_seed
        first = address_of(faucet_seed, 0, 2)
        assert devnet.command("wereAddressesSpentFrom", addresses=[first])["states"] == [True]
        third = address_of(random_seed(), 0, 2)
        payment = devnet.faucet(third, 5)
        devnet.wait_confirmed([payment["tail"]])
        assert devnet.command("getBalances", addresses=[third])["balances"] == ["5"]
    finally:
        devnet.kill()
