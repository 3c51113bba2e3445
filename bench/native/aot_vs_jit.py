"""Times the ahead-of-time compiled kernels against the numba JIT ones (prints a table).

    uv run python bench/native/aot_vs_jit.py [--repeat N]

Builds the AOT module into a temporary directory first (~15 s). The AOT build targets a
generic x86-64 CPU (portable images); JIT compiles for this host's CPU.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.calibration import calibration_line
from shared._native import load_jit
from shared._native.build import build
from shared.iota.curl import TRANSFORM_INDICES, TRUTH_TABLE
from shared.iota.kerl import _HALF_242
from shared.mam._kernels import _LANE_TRITS


def best_of(repeat: int, call: Callable[[], Any]) -> float:
    call()  # compile (JIT) / warm caches
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = build(Path(tmp))
        spec = importlib.util.spec_from_file_location("_aot", path)
        assert spec is not None and spec.loader is not None
        aot = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(aot)
    jit = load_jit()
    rng = np.random.default_rng(1)
    tx = rng.integers(-1, 2, size=8019, dtype=np.int8)
    batch = rng.integers(-1, 2, size=(256, 8019), dtype=np.int8)
    block = rng.integers(-1, 2, size=243, dtype=np.int8)
    rows = rng.integers(-1, 2, size=(54, 243), dtype=np.int8)
    counts = np.full(54, 26, dtype=np.int64)
    state = rng.integers(-1, 2, size=729, dtype=np.int8)
    midstate = rng.integers(-1, 2, size=729, dtype=np.int8)
    out48 = np.empty(48, dtype=np.uint8)

    def cases(k: Any) -> dict[str, Callable[[], Any]]:
        def pow_slice() -> None:
            work = block.copy()
            k.pow_search(midstate, work, 243, TRANSFORM_INDICES, 200, np.empty(243, np.int8))

        return {
            "curl 81, one 8019-trit tx": lambda: k.curl_absorb_squeeze(
                np.zeros(729, np.int8), tx, 243, 81, TRANSFORM_INDICES, TRUTH_TABLE
            ),
            "curl 81 sliced, 256 txs": lambda: k.curl_sliced_hash_many(
                batch, 81, TRANSFORM_INDICES
            ),
            "kerl trits->bytes x100": lambda: [
                k.kerl_to_bytes(block, _HALF_242, out48) for _ in range(100)
            ],
            "pow search, 200 iterations": pow_slice,
            "mam hash chains 54x26": lambda: k.mam_hash_chains(rows, counts, 27, TRANSFORM_INDICES),
            "mam hamming nonce sec 2": lambda: k.mam_hamming_nonce(
                state, 2, _LANE_TRITS, TRANSFORM_INDICES, TRUTH_TABLE
            ),
        }

    print(calibration_line())
    print(f"{'kernel':32} {'JIT ms':>9} {'AOT ms':>9} {'AOT/JIT':>8}")
    for (name, j), (_, a) in zip(cases(jit).items(), cases(aot).items(), strict=True):
        tj, ta = best_of(args.repeat, j), best_of(args.repeat, a)
        print(f"{name:32} {tj * 1e3:9.2f} {ta * 1e3:9.2f} {ta / tj:8.2f}")


if __name__ == "__main__":
    main()
