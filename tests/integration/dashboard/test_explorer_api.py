"""The explorer's API and the overview's series against a real devnet and dashboard process.

A faucet payment gives a bundle with one input and one output; the explorer must show
it from every side: the address (balances, spent flag), the bundle (inputs, outputs,
message), the transaction (which milestone confirmed it) and the milestone (what it
confirmed). A MAM channel written here is read back, decoded to JSON.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.mam.channel import create_channel
from shared.mam.tangle import ChannelWriter, NodeApi
from tests.integration.robot.machines import ServiceProcess
from tests.support.devnet import DevnetProcess, devnet_fixture, free_port, random_seed

pytestmark = pytest.mark.integration

SIDE_KEY = "SIDEKEY" + "9" * 74


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DevnetProcess, str]]:
    root: Path = tmp_path_factory.mktemp("explorer")
    with devnet_fixture(root / "devnet", milestone_interval=0.5) as devnet:
        env = {
            "PORT": str(free_port()),
            "HOST": "127.0.0.1",
            "MACHINES": "[]",
            "FAUCET_URL": devnet.api_url,
            "COLLECT_SECONDS": "0.5",
        }
        with ServiceProcess("dashboard", env, root / "dashboard") as dashboard:
            yield devnet, dashboard.url


def _get(url: str, **params: Any) -> httpx.Response:
    return httpx.get(url, params=params, timeout=30)


def _wait_confirmed(base: str, address: str, value: int) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        body: dict[str, Any] = _get(f"{base}/api/explorer/address/{address}").json()
        if body["confirmedBalance"] == value:
            return body
        time.sleep(0.3)
    raise AssertionError(f"{address} never showed a confirmed balance of {value}")


def test_a_faucet_payment_seen_from_every_side(stack: tuple[DevnetProcess, str]) -> None:
    devnet, base = stack
    address = random_seed()[:80] + "9"  # the last trit 0: a valid value address
    paid = devnet.faucet(address, 1234)
    bundle_hash = paid["bundle"]

    # Before confirmation the pending balance already counts the payment.
    early = _get(f"{base}/api/explorer/address/{address}").json()
    assert early["pendingBalance"] == 1234

    view = _wait_confirmed(base, address, 1234)
    assert view["spent"] is False
    assert view["transactionCount"] == 1
    [tx] = view["transactions"]
    assert tx["value"] == 1234 and tx["bundle"] == bundle_hash and tx["confirmed"] is True

    bundle = _get(f"{base}/api/explorer/bundle/{bundle_hash}").json()
    assert bundle["confirmed"] is True
    assert {"address": address, "value": 1234} in bundle["outputs"]
    # a value bundle balances: the inputs pay the outputs (ours + the faucet's remainder)
    assert (
        sum(i["value"] for i in bundle["inputs"]) + sum(o["value"] for o in bundle["outputs"]) == 0
    )
    assert bundle["value"] == sum(o["value"] for o in bundle["outputs"])
    # the faucet's input address is now spent from
    spender = bundle["inputs"][0]["address"]
    assert _get(f"{base}/api/explorer/address/{spender}").json()["spent"] is True

    detail = _get(f"{base}/api/explorer/transaction/{tx['hash']}").json()
    assert detail["confirmed"] is True and isinstance(detail["milestone"], int)
    milestone = _get(f"{base}/api/explorer/milestone/{detail['milestone']}").json()
    assert tx["hash"] in milestone["confirmed"]

    # search recognises each kind
    assert _get(f"{base}/api/explorer/search", q=tx["hash"]).json()["kind"] == "transaction"
    assert _get(f"{base}/api/explorer/search", q=bundle_hash).json()["kind"] == "bundle"
    assert _get(f"{base}/api/explorer/search", q=address).json() == {
        "kind": "address",
        "target": address,
    }
    assert _get(f"{base}/api/explorer/search", q=str(detail["milestone"])).json()["kind"] == (
        "milestone"
    )


def test_bad_queries_are_4xx_with_a_reason(stack: tuple[DevnetProcess, str]) -> None:
    _, base = stack
    reply = _get(f"{base}/api/explorer/search", q="not-trytes!")
    # the schema states the forms a query may take (an address or hash of 81/90 trytes, or
    # a milestone index), so the refusal names the field and that pattern
    assert reply.status_code == 422
    [problem] = reply.json()["detail"]
    assert problem["loc"] == ["query", "q"] and "[A-Za-z9]{81}" in problem["msg"]
    assert _get(f"{base}/api/explorer/milestone/999999").status_code == 404
    assert _get(f"{base}/api/explorer/transaction/{'A' * 81}").status_code == 404
    assert _get(f"{base}/api/explorer/bundle/{'B' * 81}").status_code == 404
    bad_checksum = "A" * 80 + "9" + "ABCDEFGHI"
    assert _get(f"{base}/api/explorer/address/{bad_checksum}").status_code == 422
    assert _get(f"{base}/api/explorer/mam", root="A" * 81, mode="restricted").status_code == 422


def test_the_mam_reader_decodes_a_restricted_channel(stack: tuple[DevnetProcess, str]) -> None:
    devnet, base = stack
    with NodeApi(devnet.api_url) as node:
        state = create_channel(random_seed(), 2, "restricted", SIDE_KEY)
        writer = ChannelWriter(node, state, mwm=devnet.mwm)
        first = writer.publish_json({"command": "hello", "n": 1})
        writer.publish_json({"command": "output", "output": 2.5})
    root = first.message.root
    body = _get(f"{base}/api/explorer/mam", root=root, mode="restricted", sideKey=SIDE_KEY).json()
    assert [m["json"] for m in body["messages"]] == [
        {"command": "hello", "n": 1},
        {"command": "output", "output": 2.5},
    ]
    # without the side key nothing authenticates
    assert _get(f"{base}/api/explorer/mam", root=root, mode="public").json()["messages"] == []


def test_the_overview_series_follow_the_devnet(stack: tuple[DevnetProcess, str]) -> None:
    _, base = stack
    deadline = time.monotonic() + 20
    series: dict[str, Any] = {}
    while time.monotonic() < deadline:
        series = _get(f"{base}/api/series").json()["series"]
        if len(series.get("milestone_index", [])) >= 3 and series.get("confirmed_tps"):
            break
        time.sleep(0.5)
    indexes = [value for _, value in series["milestone_index"]]
    assert indexes == sorted(indexes) and len(indexes) >= 3
    assert all(delay >= 0 for _, delay in series.get("confirmation_delay_s", []))
    # the live stream sends only what came after the sequence number it was given
    seq = _get(f"{base}/api/series").json()["seq"]
    with httpx.stream("GET", f"{base}/api/stream", params={"after": seq}, timeout=30) as reply:
        assert reply.headers["content-type"].startswith("text/event-stream")
        for line in reply.iter_lines():
            if line.startswith("data: "):
                event = json.loads(line.removeprefix("data: "))
                assert event["seq"] > seq
                newer = event["series"]["milestone_index"]
                assert min(value for _, value in newer) > max(indexes) - 1
                break
    health = _get(f"{base}/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
