"""Numba source of MAM v0's hot loops: bit-sliced hash chains and the Hamming nonce search.

Only ``shared._native`` imports this module; ``shared.mam._kernels`` gets the kernels
through that selector (JIT in development, AOT-compiled in container images).
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

from shared._native.curl_source import sliced_transform
from shared._native.curl_source import transform as _transform

_HASH = 243
_STATE = 729
_NONCE = 81


@numba.njit(cache=True, nogil=True, boundscheck=False)
def hash_chains(
    rows: npt.NDArray[np.int8],
    counts: npt.NDArray[np.int64],
    rounds: int,
    indices: npt.NDArray[np.int64],
) -> npt.NDArray[np.int8]:  # pragma: no cover - jitted
    ones = np.uint64(0xFFFFFFFFFFFFFFFF)
    n = rows.shape[0]
    out = np.empty((n, _HASH), dtype=np.int8)
    low = np.empty(_STATE, dtype=np.uint64)
    high = np.empty(_STATE, dtype=np.uint64)
    scratch_low = np.empty(_STATE, dtype=np.uint64)
    scratch_high = np.empty(_STATE, dtype=np.uint64)
    out_low = np.empty(_HASH, dtype=np.uint64)
    out_high = np.empty(_HASH, dtype=np.uint64)
    for first in range(0, n, 64):
        lanes = min(64, n - first)
        low[:] = ones
        high[:] = ones
        longest = 0
        for lane in range(lanes):
            if counts[first + lane] > longest:
                longest = counts[first + lane]
        for t in range(_HASH):
            lo = ones
            hi = ones
            for lane in range(lanes):
                trit = rows[first + lane, t]
                bit = np.uint64(1) << np.uint64(lane)
                if trit == 1:
                    lo &= ~bit
                elif trit == -1:
                    hi &= ~bit
            low[t] = lo
            high[t] = hi
            # a chain of length 0 is its input
            out_low[t] = lo
            out_high[t] = hi
        for step in range(1, longest + 1):
            sliced_transform(low, high, scratch_low, scratch_high, rounds, indices)
            # each hash of the chain starts from a fresh sponge: only the rate carries over
            for t in range(_HASH, _STATE):
                low[t] = ones
                high[t] = ones
            done = np.uint64(0)
            for lane in range(lanes):
                if counts[first + lane] == step:
                    done |= np.uint64(1) << np.uint64(lane)
            if done != 0:
                for t in range(_HASH):
                    out_low[t] = (out_low[t] & ~done) | (low[t] & done)
                    out_high[t] = (out_high[t] & ~done) | (high[t] & done)
        for lane in range(lanes):
            bit = np.uint64(1) << np.uint64(lane)
            for t in range(_HASH):
                if out_low[t] & bit == 0:
                    out[first + lane, t] = 1
                elif out_high[t] & bit == 0:
                    out[first + lane, t] = -1
                else:
                    out[first + lane, t] = 0
    return out


@numba.njit(cache=True, nogil=True, boundscheck=False)
def hamming_nonce(
    state: npt.NDArray[np.int8],
    security: int,
    lane_trits: npt.NDArray[np.int8],
    indices: npt.NDArray[np.int64],
    table: npt.NDArray[np.int8],
) -> npt.NDArray[np.int8]:  # pragma: no cover - jitted
    base = state.copy()
    work = np.empty(_STATE, dtype=np.int8)
    counter_from = _NONCE * 2 // 3
    while True:
        # Every lane shares the counter trits 54..80, so one scalar increment is what
        # the reference's 64-lane increment does to each lane.
        overflow = True
        for i in range(counter_from, _NONCE):
            trit = base[i]
            base[i] = 1 if trit == 0 else (-1 if trit == 1 else 0)
            if trit != 1:
                overflow = False
                break
        if overflow:
            # 3^27 candidates per lane without a hit; the reference would widen the nonce
            return np.empty(0, dtype=np.int8)
        found = -1
        for lane in range(64):
            work[:] = base
            for k in range(4):
                work[k] = lane_trits[lane, k]
            _transform(work, 27, indices, table)
            total = 0
            ok = True
            for j in range(security):
                for k in range(j * _NONCE, (j + 1) * _NONCE):
                    total += work[k]
                if total == 0 and j < security - 1:
                    ok = False
                    break
            if ok and total == 0:
                found = lane
                break
        # The reference reports "lane 0" as "nothing found" and searches on; so do we,
        # or our nonces (and payloads) would differ from its.
        if found > 0:
            nonce = base[:_NONCE].copy()
            for k in range(4):
                nonce[k] = lane_trits[found, k]
            return nonce
