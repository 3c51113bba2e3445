"""Proof of work at a given MWM: our numba PearlDiver (find_nonce, attach_bundle, two threads).

Run: uv run python bench/devnet/pow_compare.py [MWM] [COUNT]

Rows (per transaction; CPU is the calling thread's CPU time, which other processes'
load does not inflate, wall is what a client waits):

- find_nonce: the search alone, COUNT random transactions;
- attach_bundle: IRI's attachToTangle on COUNT / 3 three-transaction bundles (the
  grid's settle benchmark's shape): chaining, midstates and the hashes included;
- attach_bundle x2 threads: the same bundles split over two threads, wall per
  transaction (the kernels release the GIL, so this is about half the row above on
  two free cores);
- pyota-pow libccurl, when importable (it returns a nonce too light now and then;
  those are counted, not timed away).

Before the 4-word vector kernel (commit fec8182), same host, MWM 9, 150 transactions:
find_nonce 33.5 ms and attach_bundle 38.0 ms CPU a transaction; after it (300
transactions) 6.0 and 5.1 ms, and 3.0 ms wall a transaction on two threads.
"""

from __future__ import annotations

import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.calibration import calibration_line
from shared._native import MODE
from shared.iota.bundle import Output, build_bundle
from shared.iota.curl import curl_hash
from shared.iota.pow import attach_bundle, find_nonce
from shared.iota.transaction import parse_many, trailing_zero_trits
from shared.iota.trinary import trytes_to_trits

ALPHABET = "9ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def random_trytes(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(2673 - 27)) + "9" * 27


def random_address(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(81))


def timed(run: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, this thread's CPU seconds)."""
    wall, cpu = time.perf_counter(), time.thread_time()
    run()
    return time.perf_counter() - wall, time.thread_time() - cpu


def check_bundle(attached: list[str], mwm: int) -> None:
    for tx in parse_many(attached).transactions:
        assert trailing_zero_trits(curl_hash(trytes_to_trits(tx.trytes)))[0] >= mwm


def main() -> None:
    mwm = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 60
    rng = random.Random(7)
    samples = [random_trytes(rng) for _ in range(count)]
    bundles = [
        build_bundle(
            [Output(random_address(rng), 0, message="P" * 2200), Output(random_address(rng), 0)]
        )
        for _ in range(max(1, count // 3))
    ]
    tx_in_bundles = sum(len(b) for b in bundles)
    find_nonce(trytes_to_trits(samples[0]), 1)  # compile outside the timing
    attach_bundle(bundles[0], "T" * 81, "B" * 81, 1)
    nan = float("nan")  # not measured
    rows: list[tuple[str, float, float, float]] = []  # name, mean wall, mean cpu, max wall

    walls, cpus = [], []
    found: list[npt.NDArray[np.int8]] = []
    for trytes in samples:
        trits = trytes_to_trits(trytes)
        wall, cpu = timed(lambda: found.append(find_nonce(trits, mwm)))  # noqa: B023 - called now
        walls.append(wall)
        cpus.append(cpu)
    for done in found:
        assert trailing_zero_trits(curl_hash(done))[0] >= mwm
    rows.append(("find_nonce", statistics.mean(walls), statistics.mean(cpus), max(walls)))

    results: list[list[str]] = []
    wall, cpu = timed(
        lambda: results.extend(attach_bundle(b, "T" * 81, "B" * 81, mwm) for b in bundles)
    )
    for attached in results:
        check_bundle(attached, mwm)
    rows.append(("attach_bundle (3-tx bundles)", wall / tx_in_bundles, cpu / tx_in_bundles, nan))

    thread_cpu = [0.0, 0.0]
    threaded: list[list[str]] = []

    def worker(slot: int) -> None:
        start = time.thread_time()
        done = [attach_bundle(b, "T" * 81, "B" * 81, mwm) for b in bundles[slot::2]]
        thread_cpu[slot] = time.thread_time() - start
        threaded.extend(done)

    threads = [threading.Thread(target=worker, args=(slot,)) for slot in (0, 1)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    for attached in threaded:
        check_bundle(attached, mwm)
    rows.append(
        ("attach_bundle x2 threads", wall / tx_in_bundles, sum(thread_cpu) / tx_in_bundles, nan)
    )

    light = 0
    try:
        from pow import ccurl_interface  # pyota-pow

        walls = []
        for trytes in samples:
            start = time.perf_counter()
            done_trytes = ccurl_interface.get_powed_tx_trytes(trytes, mwm)
            walls.append(time.perf_counter() - start)
            if trailing_zero_trits(curl_hash(trytes_to_trits(done_trytes)))[0] < mwm:
                light += 1
        mean = statistics.mean(walls)
        rows.append(("pyota-pow libccurl (wall only)", mean, nan, max(walls)))
    except ImportError as error:  # pragma: no cover - optional
        print(f"pyota-pow not importable: {error}")
    print(calibration_line())
    print(f"proof of work, MWM {mwm}, {count} transactions, kernels {MODE}")
    print(f"{'per transaction':34} {'wall ms':>8} {'CPU ms':>8} {'max ms':>8}")
    for name, mean_wall, mean_cpu, max_wall in rows:
        print(f"{name:34} {mean_wall * 1e3:8.2f} {mean_cpu * 1e3:8.2f} {max_wall * 1e3:8.1f}")
    if light:
        print(f"pyota-pow: {light} of {count} nonces below MWM {mwm}")


if __name__ == "__main__":
    main()
