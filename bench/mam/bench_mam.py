"""Time MAM v0 create_message / parse_message per security level and mode; prints a table.

Run: ``uv run python bench/mam/bench_mam.py [--messages N] [--length TRYTES]``.
Reference (@iota/mam.js on Node 20, security 2, 220 trytes): create 0.66 s public /
0.87 s restricted, parse 80 ms. Targets here: create < 0.3 s, parse < 40 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.calibration import calibration_line
from shared.mam import create_channel, create_message, parse_message

ALPHABET = "9ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10, help="messages per row")
    parser.add_argument("--length", type=int, default=220, help="message length in trytes")
    args = parser.parse_args()
    rng = random.Random(1)
    seed = "".join(rng.choice(ALPHABET) for _ in range(81))
    message = "".join(rng.choice(ALPHABET) for _ in range(args.length))

    # warm up: the first call compiles (or loads the cached) numba kernels
    created = create_message(create_channel(seed, 1), message)
    parse_message(created.payload, created.root)

    print(calibration_line())
    print(f"MAM v0, {args.length}-tryte message, median of {args.messages} messages")
    print(f"{'security':>8} {'mode':<10} {'create ms':>10} {'parse ms':>9} {'payload trytes':>15}")
    for security in (1, 2, 3):
        for mode in ("public", "private", "restricted"):
            side_key = "BENCHSIDEKEY" if mode == "restricted" else None
            state = create_channel(seed, security, mode, side_key)
            creates, parses = [], []
            for _ in range(args.messages):
                start = time.perf_counter()
                out = create_message(state, message)
                creates.append(time.perf_counter() - start)
                start = time.perf_counter()
                parsed = parse_message(out.payload, out.root, side_key)
                parses.append(time.perf_counter() - start)
                assert parsed.message == message
            print(
                f"{security:>8} {mode:<10} {statistics.median(creates) * 1e3:>10.1f} "
                f"{statistics.median(parses) * 1e3:>9.1f} {len(out.payload):>15}"
            )


if __name__ == "__main__":
    main()
