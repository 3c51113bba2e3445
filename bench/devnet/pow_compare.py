"""Compare proof-of-work back ends at a given MWM: our numba PearlDiver vs pyota-pow's libccurl.

Run: uv run python bench/devnet/pow_compare.py [MWM] [COUNT]
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from shared.iota.curl import curl_hash
from shared.iota.pow import find_nonce
from shared.iota.transaction import trailing_zero_trits
from shared.iota.trinary import trytes_to_trits

ALPHABET = "9ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def random_trytes(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(2673 - 27)) + "9" * 27


def main() -> None:
    mwm = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    rng = random.Random(7)
    samples = [random_trytes(rng) for _ in range(count)]
    find_nonce(trytes_to_trits(samples[0]), 1)  # compile outside the timing
    ours = []
    for trytes in samples:
        start = time.perf_counter()
        done = find_nonce(trytes_to_trits(trytes), mwm)
        ours.append(time.perf_counter() - start)
        assert trailing_zero_trits(curl_hash(done))[0] >= mwm
    rows = [("numba PearlDiver (shared.iota.pow)", ours)]
    try:
        from pow import ccurl_interface  # pyota-pow

        theirs = []
        for trytes in samples:
            start = time.perf_counter()
            done_trytes = ccurl_interface.get_powed_tx_trytes(trytes, mwm)
            theirs.append(time.perf_counter() - start)
            assert trailing_zero_trits(curl_hash(trytes_to_trits(done_trytes)))[0] >= mwm
        rows.append(("pyota-pow libccurl", theirs))
    except ImportError as error:  # pragma: no cover - optional
        print(f"pyota-pow not importable: {error}")
    print(f"proof of work, MWM {mwm}, {count} transactions")
    print(f"{'backend':40} {'mean s':>8} {'p50 s':>8} {'max s':>8}")
    for name, times in rows:
        print(
            f"{name:40} {statistics.mean(times):8.3f} {statistics.median(times):8.3f} "
            f"{max(times):8.3f}"
        )


if __name__ == "__main__":
    main()
