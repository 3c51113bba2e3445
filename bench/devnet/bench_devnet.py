"""Devnet benchmark: validated storeTransactions throughput and store -> `sn` confirmation latency.

Run: uv run python bench/devnet/bench_devnet.py [--count 1000] [--batch 100] [--samples 20]

Starts a real devnet (MWM 9, 1 s milestones) in a temporary directory, prepares
``count`` zero-value transactions attached as a chain (PoW done before timing,
cached in the system temp dir so reruns skip it), stores them in batches and
reports transactions/s; then sends ``samples`` single transactions through
getTransactionsToApprove / attachToTangle / storeTransactions and measures the
time from the store call to the `sn` line on ZMQ. Prints a table with targets.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx
import zmq

from bench.calibration import calibration_line
from shared.iota.bundle import Output, build_bundle
from shared.iota.curl import curl_hash
from shared.iota.pow import attach_bundle
from shared.iota.trinary import trits_to_trytes, trytes_to_trits
from tests.support.devnet import DevnetProcess

HEADERS = {"X-IOTA-API-Version": "1"}
TARGET_TPS = 1000
TARGET_P50 = 1.5


def prepare_chain(count: int, root: str, cache: Path) -> list[str]:
    """``count`` zero-value transactions, each approving the previous one (and ``root``)."""
    key = f"{count}-{root}"
    if cache.exists():
        data = json.loads(cache.read_text())
        if data.get("key") == key:
            return list(data["trytes"])
    out: list[str] = []
    previous = root
    rng = random.Random(1)
    started = time.perf_counter()
    for n in range(count):
        message = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ9") for _ in range(40))
        trytes = build_bundle([Output("BENCH" + "9" * 76, 0, "BENCH", message=message)])
        attached = attach_bundle(trytes, previous, root, 9)[0]
        previous = trits_to_trytes(curl_hash(trytes_to_trits(attached)))
        out.append(attached)
        if n % 200 == 199:
            print(f"  prepared {n + 1}/{count} ({time.perf_counter() - started:.0f} s)")
    cache.write_text(json.dumps({"key": key, "trytes": out}))
    return out


def command(client: httpx.Client, url: str, **body: object) -> dict[str, object]:
    response = client.post(url, json=body, headers=HEADERS, timeout=120)
    response.raise_for_status()
    result: dict[str, object] = response.json()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--samples", type=int, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        devnet = DevnetProcess(Path(tmp) / "devnet", milestone_interval=1.0, mwm=9)
        devnet.start()
        try:
            client = httpx.Client()
            # The chain hangs off the null hash (IRI's genesis), so it can be cached.
            root = "9" * 81
            cache = Path(tempfile.gettempdir()) / "devnet-bench-chain.json"
            print(f"preparing {args.count} transactions (PoW at MWM 9, not timed)...")
            chain = prepare_chain(args.count, root, cache)

            started = time.perf_counter()
            for start in range(0, len(chain), args.batch):
                command(
                    client,
                    devnet.api_url,
                    command="storeTransactions",
                    trytes=chain[start : start + args.batch],
                )
            elapsed = time.perf_counter() - started
            tps = len(chain) / elapsed

            context = zmq.Context()
            sub = context.socket(zmq.SUB)
            sub.setsockopt(zmq.SUBSCRIBE, b"sn ")
            sub.connect(devnet.zmq_url)
            confirmed: dict[str, float] = {}
            stop = threading.Event()

            def listen() -> None:
                sub.setsockopt(zmq.RCVTIMEO, 100)
                while not stop.is_set():
                    try:
                        line = sub.recv().decode()
                    except zmq.Again:
                        continue
                    confirmed.setdefault(line.split(" ")[2], time.perf_counter())

            listener = threading.Thread(target=listen, daemon=True)
            listener.start()
            time.sleep(1.0)  # let the subscription settle (ZMQ slow joiner)
            # Wait until the stored chain itself is confirmed so the samples start clean.
            chain_tip = trits_to_trytes(curl_hash(trytes_to_trits(chain[-1])))
            deadline = time.monotonic() + 60
            while chain_tip not in confirmed and time.monotonic() < deadline:
                time.sleep(0.05)
            latencies = []
            rng = random.Random(2)
            for n in range(args.samples):
                tips = command(client, devnet.api_url, command="getTransactionsToApprove", depth=3)
                trytes = build_bundle(
                    [
                        Output(
                            "LATENCY" + "9" * 74,
                            0,
                            message="SAMPLE" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[n % 26],
                        )
                    ]
                )
                attached = command(
                    client,
                    devnet.api_url,
                    command="attachToTangle",
                    trunkTransaction=tips["trunkTransaction"],
                    branchTransaction=tips["branchTransaction"],
                    minWeightMagnitude=9,
                    trytes=trytes,
                )["trytes"]
                assert isinstance(attached, list)
                hash_ = trits_to_trytes(curl_hash(trytes_to_trits(attached[0])))
                sent = time.perf_counter()
                command(client, devnet.api_url, command="storeTransactions", trytes=attached)
                deadline = time.monotonic() + 30
                while hash_ not in confirmed and time.monotonic() < deadline:
                    time.sleep(0.005)
                if hash_ in confirmed:
                    latencies.append(confirmed[hash_] - sent)
                time.sleep(rng.random())  # sample every phase of the milestone interval
            stop.set()
            listener.join(2)
            sub.close(0)
            context.term()
        finally:
            devnet.stop()

    latencies.sort()
    p50 = statistics.median(latencies) if latencies else float("nan")
    p95 = latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("nan")
    print(calibration_line())
    print()
    print(f"{'measure':48} {'value':>12} {'target':>12}")
    print(f"{'storeTransactions, validated (tx/s)':48} {tps:12.0f} {'>= ' + str(TARGET_TPS):>12}")
    print(f"{'  transactions / batch size':48} {len(chain):>7} / {args.batch:<4}")
    print(f"{'confirmation store -> sn p50 (s)':48} {p50:12.2f} {'< ' + str(TARGET_P50):>12}")
    print(f"{'confirmation store -> sn p95 (s)':48} {p95:12.2f} {'':>12}")
    print(f"{'  samples confirmed':48} {len(latencies):>7} / {args.samples}")
    print("milestone interval 1 s, MWM 9; IRI testnet ~60 TPS, private tangles 15-60 s")


if __name__ == "__main__":
    main()
