"""Nobody can slow the devnet down (issue 14): interrupt spam leaves the coordinator alone,
attachToTangle is bounded, huge bodies are refused before they are read, and a crowd at
the faucet never stalls the IRI API."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.devnet import DevnetProcess, devnet_fixture

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

HEADERS = {"X-IOTA-API-Version": "1", "Content-Type": "application/json"}
# A zero-value transaction: attachToTangle chains it and does its proof of work.
BLANK = "9" * 2673


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevnetProcess]:
    data_dir: Path = tmp_path_factory.mktemp("devnet-hardening")
    env = {
        "DEVNET_ATTACH_MAX_MWM": "20",
        "DEVNET_ATTACH_MAX_TRANSACTIONS": "5",
        "DEVNET_ATTACH_TIMEOUT": "3",
        "DEVNET_FAUCET_MAX_WAITING": "4",
    }
    with devnet_fixture(data_dir, milestone_interval=0.5, extra_env=env) as node:
        yield node


def attach(devnet: DevnetProcess, mwm: int, count: int = 1) -> httpx.Response:
    tip = devnet.command("getTransactionsToApprove", depth=3)
    return httpx.post(
        devnet.api_url,
        json={
            "command": "attachToTangle",
            "trunkTransaction": tip["trunkTransaction"],
            "branchTransaction": tip["branchTransaction"],
            "minWeightMagnitude": mwm,
            "trytes": [BLANK] * count,
        },
        headers=HEADERS,
        timeout=60,
    )


def milestone_rate(devnet: DevnetProcess, count: int) -> float:
    """Milestones per second, timed from one milestone to the ``count``-th after it (no
    rounding to whole milestones in a fixed window)."""
    with httpx.Client(headers=HEADERS, timeout=10) as client:

        def index() -> int:
            reply = client.post(devnet.api_url, json={"command": "getNodeInfo"})
            return int(reply.json()["latestMilestoneIndex"])

        start = index()
        while index() == start:
            time.sleep(0.01)
        started = time.monotonic()
        while index() < start + 1 + count:
            time.sleep(0.01)
        return count / (time.monotonic() - started)


def test_interrupt_spam_keeps_the_milestone_rate(devnet: DevnetProcess) -> None:
    baseline = milestone_rate(devnet, 16)
    stop = threading.Event()
    sent = [0]

    def spam() -> None:
        with httpx.Client(headers=HEADERS, timeout=10) as client:
            while not stop.is_set():
                client.post(devnet.api_url, json={"command": "interruptAttachingToTangle"})
                sent[0] += 1
                time.sleep(0.005)

    spammers = [threading.Thread(target=spam) for _ in range(2)]
    for thread in spammers:
        thread.start()
    try:
        time.sleep(0.5)
        under_spam = milestone_rate(devnet, 16)
    finally:
        stop.set()
        for thread in spammers:
            thread.join(15)
    assert sent[0] > 300, "the spam did not reach the node"
    assert under_spam >= 0.9 * baseline, (baseline, under_spam, sent[0])


def test_attach_bounds_are_enforced(devnet: DevnetProcess) -> None:
    too_hard = attach(devnet, 21)
    assert too_hard.status_code == 400
    assert "at most 20" in too_hard.json()["error"]
    too_many = attach(devnet, 9, count=6)
    assert too_many.status_code == 400
    assert "at most 5 per call" in too_many.json()["error"]
    started = time.monotonic()
    timed_out = attach(devnet, 20)  # ~3^20 hashes: far beyond the 3 s deadline
    assert timed_out.status_code == 500
    assert "longer than 3s" in timed_out.json()["exception"]
    assert time.monotonic() - started < 15
    assert attach(devnet, 9, count=5).status_code == 200


def test_interrupt_stops_a_clients_attach(devnet: DevnetProcess) -> None:
    result: list[httpx.Response] = []
    worker = threading.Thread(target=lambda: result.append(attach(devnet, 20)))
    started = time.monotonic()
    worker.start()
    time.sleep(0.8)
    devnet.command("interruptAttachingToTangle")
    worker.join(30)
    assert result[0].status_code == 500
    assert result[0].json()["exception"] == "attachToTangle was interrupted"
    assert time.monotonic() - started < 2.9  # before the deadline would have stopped it


def test_huge_body_gets_413_and_the_node_is_fine(devnet: DevnetProcess) -> None:
    huge = b'{"command": "getNodeInfo", "x": "' + b"A" * 3_000_000 + b'"}'
    reply = httpx.post(devnet.api_url, content=huge, headers=HEADERS, timeout=30)
    assert reply.status_code == 413
    assert "request body larger than 2000000 bytes" in reply.json()["error"]
    faucet = httpx.post(devnet.api_url + "/faucet", content=huge, timeout=30)
    assert faucet.status_code == 413
    assert devnet.command("getNodeInfo")["latestMilestoneIndex"] >= 1
    assert httpx.get(devnet.api_url + "/health", timeout=5).status_code == 200


def test_a_crowd_at_the_faucet_never_stalls_the_api(devnet: DevnetProcess) -> None:
    address = "FAUCET9CROWD" + "9" * 69

    async def crowd() -> tuple[list[int], list[float]]:
        async with httpx.AsyncClient(timeout=60) as client:

            async def ask() -> int:
                reply = await client.post(
                    devnet.api_url + "/faucet", json={"address": address, "value": 1}
                )
                return reply.status_code

            async def probe() -> list[float]:
                await asyncio.sleep(0.5)  # the crowd has connected and is waiting now
                latencies = []
                for _ in range(20):
                    started = time.monotonic()
                    reply = await client.post(
                        devnet.api_url, json={"command": "getNodeInfo"}, headers=HEADERS
                    )
                    assert reply.status_code == 200
                    latencies.append(time.monotonic() - started)
                    await asyncio.sleep(0.1)
                return latencies

            asks = [asyncio.create_task(ask()) for _ in range(50)]
            latencies = await probe()
            statuses = await asyncio.gather(*asks)
            return list(statuses), latencies

    statuses, latencies = asyncio.run(crowd())
    assert set(statuses) <= {200, 503}
    assert statuses.count(200) >= 1
    assert statuses.count(503) >= 1  # the queue is bounded (DEVNET_FAUCET_MAX_WAITING=4)
    assert max(latencies) < 2.0, latencies
