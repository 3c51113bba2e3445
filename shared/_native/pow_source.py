"""Numba source of the bit-sliced PearlDiver nonce search (JIT in development, AOT for images).

Only ``shared._native`` imports this module; ``shared.iota.pow`` drives the search through
that selector, in slices, so an interrupt or a deadline is noticed between calls.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

from shared._native.curl_source import sliced_transform

HASH_LENGTH = 243
STATE_LENGTH = 3 * HASH_LENGTH
# The nonce is the last 81 trits of the 8019-trit transaction, i.e. trits 162..242 of its
# last 243-trit block (8019 - 81 - 7776). shared.iota.pow derives the same numbers from the
# transaction layout; the AOT-vs-JIT test checks found nonces against Curl.
_NONCE_IN_BLOCK = 162
_LANE_TRITS = 4  # 3^4 = 81 >= 64 lanes: the first nonce trits tell the lanes apart


@numba.njit(cache=True, nogil=True, boundscheck=False)
def search(
    midstate: npt.NDArray[np.int8],
    block: npt.NDArray[np.int8],
    mwm: int,
    indices: npt.NDArray[np.int64],
    max_iterations: int,
    out: npt.NDArray[np.int8],
) -> int:  # pragma: no cover - jitted
    """Fill ``out`` (243 trits of the last block) with a winning nonce; 1 found, 0 not yet."""
    ones = np.uint64(0xFFFFFFFFFFFFFFFF)
    low = np.empty(STATE_LENGTH, dtype=np.uint64)
    high = np.empty(STATE_LENGTH, dtype=np.uint64)
    work_low = np.empty(STATE_LENGTH, dtype=np.uint64)
    work_high = np.empty(STATE_LENGTH, dtype=np.uint64)
    scratch_low = np.empty(STATE_LENGTH, dtype=np.uint64)
    scratch_high = np.empty(STATE_LENGTH, dtype=np.uint64)
    for i in range(STATE_LENGTH):
        trit = block[i] if i < HASH_LENGTH else midstate[i]
        low[i] = ones if trit != 1 else np.uint64(0)
        high[i] = ones if trit != -1 else np.uint64(0)
    # Lane l gets the base-3 digits of l (balanced: digit - 1) in the first nonce trits.
    for k in range(_LANE_TRITS):
        lo = ones
        hi = ones
        for lane in range(64):
            digit = (lane // (3**k)) % 3 - 1
            bit = np.uint64(1) << np.uint64(lane)
            if digit == 1:
                lo &= ~bit
            elif digit == -1:
                hi &= ~bit
        low[_NONCE_IN_BLOCK + k] = lo
        high[_NONCE_IN_BLOCK + k] = hi
    counter_start = _NONCE_IN_BLOCK + _LANE_TRITS
    for _ in range(max_iterations):
        # Increment the shared counter (balanced ternary) in the remaining nonce trits.
        for t in range(counter_start, HASH_LENGTH):
            lo = low[t]
            hi = high[t]
            if lo == ones and hi == ones:  # 0 -> 1
                low[t] = np.uint64(0)
                break
            if lo == np.uint64(0):  # 1 -> -1, carry
                low[t] = ones
                high[t] = np.uint64(0)
                continue
            high[t] = ones  # -1 -> 0
            break
        for j in range(STATE_LENGTH):
            work_low[j] = low[j]
            work_high[j] = high[j]
        sliced_transform(work_low, work_high, scratch_low, scratch_high, 81, indices)
        mask = ones
        for i in range(HASH_LENGTH - mwm, HASH_LENGTH):
            mask &= work_low[i] & work_high[i]
            if mask == np.uint64(0):
                break
        if mask != np.uint64(0):
            lane = 0
            while (mask >> np.uint64(lane)) & np.uint64(1) == np.uint64(0):
                lane += 1
            bit = np.uint64(1) << np.uint64(lane)
            for i in range(HASH_LENGTH):
                if low[i] & bit == np.uint64(0):
                    out[i] = 1
                elif high[i] & bit == np.uint64(0):
                    out[i] = -1
                else:
                    out[i] = 0
            return 1
    # Save progress into ``out`` as a trit vector the caller feeds back in.
    for i in range(HASH_LENGTH):
        out[i] = 2  # marker: no result
    for i in range(HASH_LENGTH):
        block[i] = 0
    for i in range(counter_start, HASH_LENGTH):
        if low[i] == np.uint64(0):
            block[i] = 1
        elif high[i] == np.uint64(0):
            block[i] = -1
    return 0
