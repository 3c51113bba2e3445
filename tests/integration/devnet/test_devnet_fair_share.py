"""One client cannot hurt the others (issue 20): its interruptAttachingToTangle stops only
its own proof of work, and large getTrytes answers are streamed under a bounded number of
turns, so eight of them at once leave the node's memory where it was."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from iota import Address, Iota, ProposedTransaction, Tag, TryteString

from tests.support.devnet import DevnetProcess, devnet_fixture

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

HEADERS = {"X-IOTA-API-Version": "1", "Content-Type": "application/json"}
BLANK = "9" * 2673
NINES = "9" * 2673


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevnetProcess]:
    # DEVNET_MWM 1: filling the tangle for the memory test costs no proof of work; the
    # interrupt test asks for MWM 13 itself (the node uses the larger of the two).
    data_dir: Path = tmp_path_factory.mktemp("devnet-fair")
    env = {"DEVNET_ATTACH_MAX_MWM": "20", "DEVNET_ATTACH_TIMEOUT": "120"}
    with devnet_fixture(data_dir, milestone_interval=0.5, mwm=1, extra_env=env) as node:
        yield node


def spam_interrupts(url: str, local_address: str, stop: threading.Event, sent: list[int]) -> None:
    transport = httpx.HTTPTransport(local_address=local_address)
    with httpx.Client(headers=HEADERS, timeout=10, transport=transport) as client:
        while not stop.is_set():
            client.post(url, json={"command": "interruptAttachingToTangle"})
            sent[0] += 1
            time.sleep(0.003)


def transfers(count: int) -> list[ProposedTransaction]:
    return [
        ProposedTransaction(
            address=Address(b"FAIR9SHARE" + b"9" * 71),
            value=0,
            tag=Tag(b"FAIR9SHARE"),
            message=TryteString.from_unicode(f"attach {i}"),
        )
        for i in range(count)
    ]


def test_interrupt_spam_from_another_client_leaves_pyotas_attach_alone(
    devnet: DevnetProcess,
) -> None:
    stop = threading.Event()
    sent = [0]
    # The attacker is another host: 127.0.0.2 (all of 127/8 is loopback on Linux), PyOTA
    # connects from 127.0.0.1.
    spammer = threading.Thread(
        target=spam_interrupts, args=(devnet.api_url, "127.0.0.2", stop, sent)
    )
    spammer.start()
    try:
        time.sleep(0.3)
        started = time.monotonic()
        # MWM 13 for 4 transactions: a few seconds of proof of work on a loaded machine,
        # hundreds of interrupts while it runs (on main each one aborted it).
        result = Iota(devnet.api_url).send_transfer(
            depth=3, transfers=transfers(4), min_weight_magnitude=13
        )
        took = time.monotonic() - started
    finally:
        stop.set()
        spammer.join(15)
    bundle = result["bundle"]
    assert len(bundle) == 4
    hashes = [str(tx.hash) for tx in bundle]
    assert devnet.command("getTrytes", hashes=hashes)["trytes"][0] != NINES
    assert sent[0] > 50, ("the spam did not reach the node while it attached", sent[0], took)


def test_a_clients_own_interrupt_still_stops_its_attach(devnet: DevnetProcess) -> None:
    """The control for the test above: the same spam from the attaching client's own
    address stops its attach at once, as IRI's command does."""
    tip = devnet.command("getTransactionsToApprove", depth=3)
    stop = threading.Event()
    sent = [0]
    spammer = threading.Thread(
        target=spam_interrupts, args=(devnet.api_url, "127.0.0.1", stop, sent)
    )
    spammer.start()
    try:
        reply = httpx.post(
            devnet.api_url,
            json={
                "command": "attachToTangle",
                "trunkTransaction": tip["trunkTransaction"],
                "branchTransaction": tip["branchTransaction"],
                "minWeightMagnitude": 20,
                "trytes": [BLANK],
            },
            headers=HEADERS,
            timeout=120,
        )
    finally:
        stop.set()
        spammer.join(15)
    assert reply.status_code == 500
    assert reply.json()["exception"] == "attachToTangle was interrupted"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def fill_tangle(devnet: DevnetProcess, count: int) -> list[str]:
    """``count`` real zero-value transactions, 100 per bundle through PyOTA."""
    api = Iota(devnet.api_url)
    hashes: list[str] = []
    while len(hashes) < count:
        bundle = api.send_transfer(depth=3, transfers=transfers(100), min_weight_magnitude=1)[
            "bundle"
        ]
        hashes += [str(tx.hash) for tx in bundle]
    return hashes[:count]


def test_eight_large_get_trytes_at_once_keep_memory_flat(devnet: DevnetProcess) -> None:
    stored = fill_tangle(devnet, 500)
    expected = dict(zip(stored, devnet.command("getTrytes", hashes=stored)["trytes"], strict=True))
    assert NINES not in expected.values()
    # 10,000 hashes (840 KB in, ~27 MB out): every stored one 19 times and 500 unknown.
    unknown = ["FAIR9UNKNOWN" + "9" * 69] * 500
    hashes = stored * 19 + unknown
    assert len(hashes) == 10_000
    pid = devnet.pid
    assert pid is not None
    for _ in range(3):  # the small-call paths warmed up, then idle
        devnet.command("getTrytes", hashes=stored[:10])
    time.sleep(1.0)
    idle = rss_mb(pid)
    peak = [idle]
    answers: list[httpx.Response | BaseException] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], rss_mb(pid))
            time.sleep(0.02)

    def ask() -> None:
        try:
            answers.append(
                httpx.post(
                    devnet.api_url,
                    json={"command": "getTrytes", "hashes": hashes},
                    headers=HEADERS,
                    timeout=120,
                )
            )
        except BaseException as error:  # reported by the assertion below
            answers.append(error)

    sampler = threading.Thread(target=sample)
    sampler.start()
    askers = [threading.Thread(target=ask) for _ in range(8)]
    for thread in askers:
        thread.start()
    for thread in askers:
        thread.join(180)
    time.sleep(1.0)
    stop.set()
    sampler.join(5)
    after = rss_mb(pid)
    served = 0
    for answer in answers:
        assert isinstance(answer, httpx.Response), answer
        if answer.status_code == 503:  # a clear, bounded refusal is allowed
            assert "DEVNET_READ_CONCURRENCY" in answer.json()["error"]
            continue
        assert answer.status_code == 200, answer.text[:200]
        trytes = answer.json()["trytes"]
        assert len(trytes) == 10_000
        assert trytes[:500] == [expected[h] for h in stored]
        assert trytes[-500:] == [NINES] * 500
        served += 1
    assert len(answers) == 8 and served >= 1
    # On main: 8 x ~27 MB answers, each held several times over, took it up ~360 MB.
    assert peak[0] - idle < 100, (idle, peak[0], after)
    assert after - idle < 100, (idle, peak[0], after)
