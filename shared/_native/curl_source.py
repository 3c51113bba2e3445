"""Numba source of the Curl-P kernels (JIT in development, AOT-compiled for images).

Only ``shared._native`` imports this module: the public ``shared.iota.curl`` gets the
kernels through that selector, so a container image with the ahead-of-time compiled
module needs neither numba nor llvmlite. The transform is also called from the other
kernel sources (MAM, proof of work), which is why it is a plain ``@njit`` function here.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

HASH_LENGTH = 243
STATE_LENGTH = 3 * HASH_LENGTH


# The tables travel as arguments: numba freezes global arrays into the compiled
# code as constants, which measured ten times slower than reading arguments.
@numba.njit(cache=True, nogil=True, boundscheck=False)
def transform(
    state: npt.NDArray[np.int8],
    rounds: int,
    indices: npt.NDArray[np.int64],
    table: npt.NDArray[np.int8],
) -> None:  # pragma: no cover - jitted
    scratch = np.empty(STATE_LENGTH, dtype=np.int8)
    for _ in range(rounds):
        for j in range(STATE_LENGTH):
            scratch[j] = state[j]
        for i in range(STATE_LENGTH):
            a = np.int64(scratch[indices[i]])
            b = np.int64(scratch[indices[i + 1]])
            state[i] = table[a + (b << 2) + 5]


@numba.njit(cache=True, nogil=True)
def absorb_squeeze(
    state: npt.NDArray[np.int8],
    trits: npt.NDArray[np.int8],
    out_length: int,
    rounds: int,
    indices: npt.NDArray[np.int64],
    table: npt.NDArray[np.int8],
) -> npt.NDArray[np.int8]:  # pragma: no cover - jitted
    for offset in range(0, trits.shape[0], HASH_LENGTH):
        end = min(offset + HASH_LENGTH, trits.shape[0])
        state[: end - offset] = trits[offset:end]
        transform(state, rounds, indices, table)
    out = np.empty(out_length, dtype=np.int8)
    for offset in range(0, out_length, HASH_LENGTH):
        end = min(offset + HASH_LENGTH, out_length)
        out[offset:end] = state[: end - offset]
        transform(state, rounds, indices, table)
    return out


# --- bit-sliced batch hashing -------------------------------------------------
#
# 64 sponges run side by side, one per bit of a uint64: each trit is a pair of
# bits (low, high) with 0 -> (1, 1), 1 -> (0, 1), -1 -> (1, 0), the encoding
# IRI's PearlDiver uses. One bitwise expression then transforms 64 states at
# once, which is what makes validating thousands of transactions a second fit
# on two cores.


@numba.njit(cache=True, nogil=True, boundscheck=False)
def sliced_transform(
    low: npt.NDArray[np.uint64],
    high: npt.NDArray[np.uint64],
    scratch_low: npt.NDArray[np.uint64],
    scratch_high: npt.NDArray[np.uint64],
    rounds: int,
    indices: npt.NDArray[np.int64],
) -> None:  # pragma: no cover - jitted
    for _ in range(rounds):
        for j in range(STATE_LENGTH):
            scratch_low[j] = low[j]
            scratch_high[j] = high[j]
        for i in range(STATE_LENGTH):
            p = indices[i]
            q = indices[i + 1]
            alpha = scratch_low[p]
            beta = scratch_high[p]
            gamma = scratch_high[q]
            delta = (alpha | ~gamma) & (scratch_low[q] ^ beta)
            low[i] = ~delta
            high[i] = (alpha ^ gamma) | delta


@numba.njit(cache=True, nogil=True, boundscheck=False)
def sliced_hash_words(
    batch: npt.NDArray[np.int8],
    first: int,
    count: int,
    rounds: int,
    indices: npt.NDArray[np.int64],
    out: npt.NDArray[np.int8],
) -> None:  # pragma: no cover - jitted
    ones = np.uint64(0xFFFFFFFFFFFFFFFF)
    low = np.empty(STATE_LENGTH, dtype=np.uint64)
    high = np.empty(STATE_LENGTH, dtype=np.uint64)
    scratch_low = np.empty(STATE_LENGTH, dtype=np.uint64)
    scratch_high = np.empty(STATE_LENGTH, dtype=np.uint64)
    low[:] = ones
    high[:] = ones
    length = batch.shape[1]
    for offset in range(0, length, HASH_LENGTH):
        end = min(offset + HASH_LENGTH, length)
        for t in range(end - offset):
            lo = ones
            hi = ones
            for lane in range(count):
                trit = batch[first + lane, offset + t]
                bit = np.uint64(1) << np.uint64(lane)
                if trit == 1:
                    lo &= ~bit
                elif trit == -1:
                    hi &= ~bit
            low[t] = lo
            high[t] = hi
        sliced_transform(low, high, scratch_low, scratch_high, rounds, indices)
    # out has 243 columns (the hash) or 729 (the whole state, for a caller that absorbs more).
    for lane in range(count):
        bit = np.uint64(1) << np.uint64(lane)
        for t in range(out.shape[1]):
            lo = low[t] & bit
            hi = high[t] & bit
            if lo == 0:
                out[first + lane, t] = 1
            elif hi == 0:
                out[first + lane, t] = -1
            else:
                out[first + lane, t] = 0


@numba.njit(cache=True, nogil=True)
def sliced_hash_many(
    batch: npt.NDArray[np.int8], rounds: int, indices: npt.NDArray[np.int64]
) -> npt.NDArray[np.int8]:  # pragma: no cover - jitted
    out = np.empty((batch.shape[0], HASH_LENGTH), dtype=np.int8)
    for first in range(0, batch.shape[0], 64):
        count = min(64, batch.shape[0] - first)
        sliced_hash_words(batch, first, count, rounds, indices, out)
    return out


@numba.njit(cache=True, nogil=True)
def sliced_absorb_many(
    batch: npt.NDArray[np.int8], rounds: int, indices: npt.NDArray[np.int64]
) -> npt.NDArray[np.int8]:  # pragma: no cover - jitted
    """The 729-trit sponge state after absorbing each row (no squeeze)."""
    out = np.empty((batch.shape[0], STATE_LENGTH), dtype=np.int8)
    for first in range(0, batch.shape[0], 64):
        count = min(64, batch.shape[0] - first)
        sliced_hash_words(batch, first, count, rounds, indices, out)
    return out
