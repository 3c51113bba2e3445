"""The devnet ledger, coordinator and IRI command layer, in-process (no HTTP, no ZMQ)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.devnet.api import IriApi
from services.devnet.coordinator import MilestoneCoordinator
from services.devnet.faucet import Faucet, FaucetError, checked_address
from services.devnet.node import DevnetNode
from services.devnet.settings import PUBLIC_TEST_FAUCET_SEED
from services.devnet.store import TangleStore
from services.devnet.tangle import Tangle, TangleError, load_snapshot
from shared.iota.bundle import TOTAL_SUPPLY, Input, Output, build_bundle
from shared.iota.kerl import kerl_hash
from shared.iota.pow import attach_bundle
from shared.iota.signing import address_of
from shared.iota.transaction import parse_many
from shared.iota.trinary import trits_to_trytes, trytes_to_trits
from tests.support.devnet import PUBLIC_TEST_FAUCET_SEED as SUPPORT_SEED

MWM = 3
RICH = "RICH9UNIT9SEED" + "9" * 67
COORDINATOR = "COORDINATOR9UNIT" + "9" * 65


def open_node(path: Path) -> tuple[DevnetNode, MilestoneCoordinator]:
    tangle = Tangle(TangleStore(f"sqlite:///{path / 'tangle.sqlite'}"), MWM)
    tangle.open(lambda: {address_of(RICH, 0, 2): TOTAL_SUPPLY})
    node = DevnetNode(tangle, None, MWM)
    return node, MilestoneCoordinator(node, COORDINATOR, max_merges=4)


def attach(node: DevnetNode, trytes: list[str]) -> list[str]:
    trunk, branch = node.tangle.select_tips()
    return attach_bundle(trytes, trunk, branch, MWM)


def pay(node: DevnetNode, index: int, balance: int, target: str, value: int) -> list[str]:
    return attach(
        node,
        build_bundle(
            [Output(target, value)],
            [Input(address_of(RICH, index, 2), balance, RICH, index, 2)],
            remainder_address=address_of(RICH, index + 1, 2),
        ),
    )


def test_support_module_uses_the_documented_public_seed() -> None:
    assert SUPPORT_SEED == PUBLIC_TEST_FAUCET_SEED
    assert len(PUBLIC_TEST_FAUCET_SEED) == 81


def test_transfer_is_confirmed_by_a_milestone_and_survives_reopen(tmp_path: Path) -> None:
    node, coordinator = open_node(tmp_path)
    assert coordinator.issue() == 1
    target = address_of("TARGET" + "9" * 75, 0, 2)
    bundle = pay(node, 0, TOTAL_SUPPLY, target, 77)
    node.store(bundle)
    tail = parse_many(bundle).transactions[0].hash
    assert not node.tangle.is_confirmed(tail)
    assert node.tangle.confirmed_balance(target) == 0  # only confirmed balances count
    assert coordinator.issue() == 2
    assert node.tangle.is_confirmed(tail)
    assert node.tangle.confirmed_balance(target) == 77
    assert node.tangle.confirmed_balance(address_of(RICH, 1, 2)) == TOTAL_SUPPLY - 77
    assert address_of(RICH, 0, 2) in node.tangle.spent
    assert node.tangle.supply_check() == TOTAL_SUPPLY
    node.tangle.store.close()

    reopened, again = open_node(tmp_path)
    assert reopened.tangle.latest_milestone_index == 2
    assert reopened.tangle.is_confirmed(tail)
    assert reopened.tangle.confirmed_balance(target) == 77
    assert address_of(RICH, 0, 2) in reopened.tangle.spent
    assert again.issue() == 3


def test_conflicting_bundles_second_is_refused(tmp_path: Path) -> None:
    node, coordinator = open_node(tmp_path)
    coordinator.issue()
    first = pay(node, 0, TOTAL_SUPPLY, address_of("ONE" + "9" * 78, 0, 2), 5)
    second = pay(node, 0, TOTAL_SUPPLY, address_of("TWO" + "9" * 78, 0, 2), 6)
    node.store(first)
    before = node.tangle.stored_count
    with pytest.raises(TangleError, match="double spend"):
        node.store(second)
    assert node.tangle.stored_count == before  # nothing of the refused body was stored
    # Re-storing the accepted bundle is harmless (idempotent).
    assert node.store(first).stored == []


def test_invalid_pow_and_incomplete_bundle(tmp_path: Path) -> None:
    node, coordinator = open_node(tmp_path)
    coordinator.issue()
    bundle = pay(node, 0, TOTAL_SUPPLY, address_of("X" * 81, 0, 2), 5)
    with pytest.raises(TangleError, match="incomplete"):
        node.store(bundle[:2])
    unattached = build_bundle([Output("X" * 81, 0)])
    heavy = Tangle(node.tangle.store, 40)  # 40 trailing zeros: no real PoW has that
    with pytest.raises(TangleError, match="Invalid transaction hash"):
        heavy.check_transactions(attach(node, unattached))


def test_coordinator_merges_excess_tips(tmp_path: Path) -> None:
    node, coordinator = open_node(tmp_path)
    coordinator.issue()
    hashes = []
    for n in range(5):
        trytes = attach_bundle(
            build_bundle([Output("M" * 80 + "9", 0, message=f"MSG{'9' * n}")]),
            node.tangle.latest_milestone_hash,
            node.tangle.latest_milestone_hash,
            MWM,
        )
        node.store(trytes)
        hashes.append(parse_many(trytes).transactions[0].hash)
    assert node.tangle.tip_count() == 5
    coordinator.issue()
    assert all(node.tangle.is_confirmed(h) for h in hashes)
    assert node.tangle.tip_count() == 0


def test_api_shapes_and_not_synced(tmp_path: Path) -> None:
    node, coordinator = open_node(tmp_path)
    api = IriApi(node, coordinator.address)
    status, reply = api.dispatch({"command": "getBalances", "addresses": ["A" * 81]})
    assert status == 400
    assert reply["error"].startswith("This operation cannot be executed")
    coordinator.issue()
    status, reply = api.dispatch(
        {"command": "getBalances", "addresses": [address_of(RICH, 0, 2)], "threshold": 100}
    )
    assert status == 200 and reply["balances"] == [str(TOTAL_SUPPLY)]
    status, reply = api.dispatch({"command": "getBalances", "addresses": ["bad"]})
    assert (status, reply) == (500, {"exception": "Invalid addresses input"})
    status, reply = api.dispatch({"command": "getTransactionsToApprove", "depth": 0})
    assert (status, reply) == (400, {"error": "Invalid depth input"})
    status, reply = api.dispatch({"command": "getTransactionsToApprove", "depth": 3})
    assert reply["trunkTransaction"] == node.tangle.latest_milestone_hash
    status, reply = api.dispatch({"command": "getTrytes", "hashes": ["9" * 81]})
    assert reply == {"trytes": ["9" * 2673]}
    status, reply = api.dispatch({"command": "findTransactions", "tags": ["DEVNET"]})
    assert status == 200 and reply == {"hashes": []}
    status, reply = api.dispatch({"command": "getNodeInfo"})
    assert reply["latestMilestoneIndex"] == 1
    assert reply["coordinatorAddress"] == coordinator.address
    milestone = node.tangle.store.trytes_of([reply["latestMilestone"]])[reply["latestMilestone"]]
    assert parse_many([milestone]).transactions[0].address == coordinator.address


def test_faucet_pays_and_moves_to_its_next_address(tmp_path: Path) -> None:
    node, coordinator = open_node(tmp_path)
    coordinator.issue()
    faucet = Faucet(node, RICH, max_value=1000, wait=0.2)
    target = address_of("FAUCET9TARGET" + "9" * 68, 0, 2)
    payment = faucet.pay(target, 10)
    assert faucet.key_index() == 1
    coordinator.issue()
    assert node.tangle.is_confirmed(payment.tail)
    assert node.tangle.confirmed_balance(target) == 10
    with pytest.raises(FaucetError, match="capped"):
        faucet.pay(target, 1001)
    with pytest.raises(FaucetError):
        faucet.pay(target, -1)


def test_address_checksum_validation() -> None:
    address = address_of("CHECKSUM" + "9" * 73, 0, 2)
    checksum = trits_to_trytes(kerl_hash(trytes_to_trits(address)))[-9:]
    assert checked_address(address + checksum) == address
    with pytest.raises(FaucetError, match="checksum"):
        checked_address(address + "999999999")
    with pytest.raises(FaucetError):
        checked_address(123)


def test_snapshot_file(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text(f"{'A' * 81};{TOTAL_SUPPLY - 5}\n{'B' * 81};5\n")
    assert load_snapshot(good) == {"A" * 81: TOTAL_SUPPLY - 5, "B" * 81: 5}
    bad = tmp_path / "bad.txt"
    bad.write_text("NOTANADDRESS;5\n")
    with pytest.raises(ValueError, match="line 1"):
        load_snapshot(bad)
