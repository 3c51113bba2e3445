"""Acceptance: real PyOTA 2.1.0 against a real devnet process; refusals; ZMQ lines."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from iota import Address, Iota, ProposedTransaction, Tag, TryteString

from shared.iota.bundle import Input, Output, build_bundle
from shared.iota.signing import address_of
from shared.iota.transaction import parse_many, trailing_zero_trits
from shared.iota.zmq_lines import TransactionConfirmed, TransactionSeen, parse_line
from tests.integration.devnet.conftest import ZmqTap
from tests.support.devnet import DevnetProcess, random_seed

pytestmark = pytest.mark.integration

HEADERS = {"X-IOTA-API-Version": "1"}


def post(devnet: DevnetProcess, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(devnet.api_url, json=body, headers=HEADERS if headers is None else headers)


def balance(devnet: DevnetProcess, address: str) -> int:
    return int(devnet.command("getBalances", addresses=[address])["balances"][0])


def funded_address(devnet: DevnetProcess, value: int) -> tuple[str, str]:
    """A fresh seed whose index-0 address holds ``value`` confirmed tokens."""
    seed = random_seed()
    address = address_of(seed, 0, 2)
    payment = devnet.faucet(address, value)
    devnet.wait_confirmed([payment["tail"]])
    assert balance(devnet, address) == value
    return seed, address


def attach_and_store(devnet: DevnetProcess, trytes: list[str]) -> httpx.Response:
    tips = devnet.command("getTransactionsToApprove", depth=3)
    attached = devnet.command(
        "attachToTangle",
        trunkTransaction=tips["trunkTransaction"],
        branchTransaction=tips["branchTransaction"],
        minWeightMagnitude=9,
        trytes=list(reversed(trytes)),
    )["trytes"]
    return post(devnet, {"command": "storeTransactions", "trytes": attached})


def test_pyota_transfer_between_two_seeds_is_confirmed_and_seen_on_zmq(
    devnet: DevnetProcess, zmq_tap: ZmqTap
) -> None:
    sender_seed, sender_address = funded_address(devnet, 1000)
    receiver_seed = random_seed()
    sender = Iota(devnet.api_url, sender_seed)
    receiver = Iota(devnet.api_url, receiver_seed)
    receiver_address = receiver.get_new_addresses(index=0, count=1)["addresses"][0]
    assert str(sender.get_new_addresses(index=0, count=1)["addresses"][0]) == sender_address

    result = sender.send_transfer(
        depth=3,
        transfers=[
            ProposedTransaction(
                address=Address(receiver_address),
                value=300,
                tag=Tag(b"DEVNET9TEST"),
                message=TryteString.from_unicode("hello devnet"),
            )
        ],
        min_weight_magnitude=9,
    )
    bundle = result["bundle"]
    tail = str(bundle.tail_transaction.hash)

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        states = sender.get_latest_inclusion([tail])["states"]
        if states[tail]:
            break
        time.sleep(0.2)
    else:
        pytest.fail("transfer not confirmed by a milestone")

    # Both balances moved: the whole input spent, 300 to the receiver, 700 to a remainder.
    assert receiver.get_balances([receiver_address])["balances"] == [300]
    assert balance(devnet, sender_address) == 0
    inputs = sender.get_inputs(start=0, stop=5)
    assert inputs["totalBalance"] == 700
    assert devnet.command("wereAddressesSpentFrom", addresses=[sender_address])["states"] == [True]

    # IRI's ZMQ lines for the transfer: tx when stored, sn when confirmed.
    hashes = {str(tx.hash) for tx in bundle.transactions}
    tx_line = zmq_tap.wait_for(lambda line: line.startswith("tx ") and line.split()[1] == tail)
    seen = parse_line(tx_line)
    assert isinstance(seen, TransactionSeen)
    assert seen.address == str(receiver_address) or seen.address in {
        str(t.address) for t in bundle.transactions
    }
    assert seen.bundle == str(bundle.hash)
    assert len(tx_line.split(" ")) == 13
    sn_line = zmq_tap.wait_for(lambda line: line.startswith("sn ") and line.split()[2] == tail)
    confirmed = parse_line(sn_line)
    assert isinstance(confirmed, TransactionConfirmed)
    assert confirmed.bundle == str(bundle.hash)
    assert confirmed.milestone_index >= 1
    assert len(sn_line.split(" ")) == 7
    address_line = zmq_tap.wait_for(
        lambda line: line.startswith(str(receiver_address)) and line.endswith(" sn")
    )
    assert address_line.split(" ")[1] in hashes
    lmi = zmq_tap.wait_for(lambda line: line.startswith("lmi "))
    old, new = (int(x) for x in lmi.split()[1:])
    assert new == old + 1


def test_double_spend_is_refused_and_balances_stay(devnet: DevnetProcess) -> None:
    seed, address = funded_address(devnet, 500)
    first_target = address_of(random_seed(), 0, 2)
    second_target = address_of(random_seed(), 0, 2)
    first = build_bundle([Output(first_target, 500)], [Input(address, 500, seed, 0, 2)])
    second = build_bundle([Output(second_target, 500)], [Input(address, 500, seed, 0, 2)])
    assert attach_and_store(devnet, first).status_code == 200
    refused = attach_and_store(devnet, second)
    assert refused.status_code == 500
    assert "double spend" in refused.json()["exception"]
    tail = parse_many(first).transactions  # unattached; find the stored tail by bundle
    stored = devnet.command("findTransactions", bundles=[tail[0].bundle])["hashes"]
    devnet.wait_confirmed(stored)
    assert balance(devnet, first_target) == 500
    assert balance(devnet, second_target) == 0
    assert balance(devnet, address) == 0


def test_overspending_the_confirmed_balance_is_refused(devnet: DevnetProcess) -> None:
    seed, address = funded_address(devnet, 100)
    target = address_of(random_seed(), 0, 2)
    # Claim a balance of 1000 the address does not have.
    greedy = build_bundle(
        [Output(target, 1000)], [Input(address, 1000, seed, 0, 2)], remainder_address=None
    )
    refused = attach_and_store(devnet, greedy)
    assert refused.status_code == 500
    assert "insufficient balance" in refused.json()["exception"]
    assert balance(devnet, address) == 100
    assert balance(devnet, target) == 0


def test_bad_signature_is_refused(devnet: DevnetProcess) -> None:
    seed, address = funded_address(devnet, 200)
    target = address_of(random_seed(), 0, 2)
    stamp = int(time.time())
    trytes = build_bundle([Output(target, 200)], [Input(address, 200, seed, 0, 2)], timestamp=stamp)
    # Sign with the wrong key: same bundle, signature from another seed's key.
    forged = build_bundle(
        [Output(target, 200)], [Input(address, 200, random_seed(), 0, 2)], timestamp=stamp
    )
    assert parse_many(forged).transactions[1].bundle == parse_many(trytes).transactions[1].bundle
    refused = attach_and_store(devnet, forged)
    assert refused.status_code == 500
    assert refused.json()["exception"].startswith("Invalid bundle: invalid signature")
    assert balance(devnet, address) == 200
    assert devnet.command("wereAddressesSpentFrom", addresses=[address])["states"] == [False]
    # The genuine bundle still goes through afterwards.
    assert attach_and_store(devnet, trytes).status_code == 200


def test_too_little_pow_is_refused(devnet: DevnetProcess) -> None:
    target = address_of(random_seed(), 0, 2)
    trytes = build_bundle([Output(target, 0, message="ABC")])
    tips = devnet.command("getTransactionsToApprove", depth=3)
    attached = devnet.command(
        "attachToTangle",
        trunkTransaction=tips["trunkTransaction"],
        branchTransaction=tips["branchTransaction"],
        minWeightMagnitude=9,
        trytes=trytes,
    )["trytes"]
    # A different nonce almost surely loses the 9 trailing zero trits (checked below).
    weak = attached[0][:-27] + "A" * 27

    assert trailing_zero_trits(parse_many([weak]).hash_trits)[0] < 9
    refused = post(devnet, {"command": "storeTransactions", "trytes": [weak]})
    assert refused.status_code == 500
    assert refused.json() == {
        "exception": "Invalid transaction hash",
        "duration": refused.json()["duration"],
    }
    assert devnet.command("getTrytes", hashes=[parse_many([weak]).transactions[0].hash])[
        "trytes"
    ] == ["9" * 2673]


def test_malformed_body_and_missing_header(devnet: DevnetProcess) -> None:
    bad_json = httpx.post(devnet.api_url, content=b"{not json", headers=HEADERS)
    assert bad_json.status_code == 400
    assert bad_json.json()["error"].startswith("Invalid JSON syntax")
    no_header = httpx.post(devnet.api_url, json={"command": "getNodeInfo"})
    assert no_header.status_code == 400
    assert no_header.json()["error"] == "Invalid API Version"
    assert no_header.headers["access-control-allow-origin"] == "*"
    no_command = post(devnet, {"foo": 1})
    assert no_command.status_code == 400
    assert no_command.json()["error"] == (
        "COMMAND parameter has not been specified in the request."
    )
    unknown = post(devnet, {"command": "fly"})
    assert unknown.json()["error"] == "Command [fly] is unknown"
    bad_trytes = post(devnet, {"command": "storeTransactions", "trytes": ["ABC"]})
    assert bad_trytes.status_code == 500
    assert bad_trytes.json()["exception"] == "Invalid trytes input"
    bad_depth = post(devnet, {"command": "getTransactionsToApprove", "depth": 99})
    assert bad_depth.status_code == 400
    assert bad_depth.json()["error"] == "Invalid depth input"
    too_long = httpx.post(devnet.api_url, content=b" " * 1_000_001, headers=HEADERS)
    assert too_long.json()["error"] == "Request too long"
    # ... and the node still answers normally.
    assert devnet.command("getNodeInfo")["latestMilestoneIndex"] >= 1


def test_pyota_2_and_3_request_shapes(devnet: DevnetProcess) -> None:
    _seed, address = funded_address(devnet, 42)
    info = devnet.command("getNodeInfo")
    old_style = post(
        devnet, {"command": "getBalances", "addresses": [address], "threshold": 100}
    ).json()
    new_style = post(devnet, {"command": "getBalances", "addresses": [address]}).json()
    for reply in (old_style, new_style):
        assert reply["balances"] == ["42"]
        assert isinstance(reply["milestoneIndex"], int)
        assert len(reply["references"]) == 1
        assert isinstance(reply["duration"], int)
    tail = devnet.command("findTransactions", addresses=[address])["hashes"]
    states_old = devnet.command(
        "getInclusionStates", transactions=tail, tips=[info["latestSolidSubtangleMilestone"]]
    )["states"]
    states_new = devnet.command("getInclusionStates", transactions=tail)["states"]
    assert states_old == states_new == [True] * len(tail)
    config = devnet.command("getNodeAPIConfiguration")
    assert config["maxRequestsList"] == 1000 and config["maxGetTrytes"] == 10000


def test_faucet_refuses_bad_addresses_and_caps_value(devnet: DevnetProcess) -> None:
    too_short = httpx.post(f"{devnet.api_url}/faucet", json={"address": "ABC", "value": 1})
    assert too_short.status_code == 400
    good = address_of(random_seed(), 0, 2)
    bad_checksum = httpx.post(
        f"{devnet.api_url}/faucet", json={"address": good + "AAAAAAAAA", "value": 1}
    )
    assert bad_checksum.status_code == 400
    assert "checksum" in bad_checksum.json()["error"]
    too_much = httpx.post(f"{devnet.api_url}/faucet", json={"address": good, "value": 10**12})
    assert too_much.status_code == 400
    assert "capped" in too_much.json()["error"]
    assert balance(devnet, good) == 0
