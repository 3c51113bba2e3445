"""Curl-P sponge (27 or 81 rounds), compiled with numba.

Pure-Python Curl costs milliseconds a hash; transaction validation and MAM
hash thousands of times per operation, so the transform is JIT-compiled
(``cache=True`` keeps the machine code between runs). ``hash_many`` hashes a
batch of equal-length inputs in one call, which is what the devnet does with
a ``storeTransactions`` body.

Absorbing follows IRI and iota.js: a ragged last block overwrites the start of
the state and leaves the rest (PyOTA's pure-Python Curl zero-pads it instead;
the two agree on whole 243-trit blocks, which is all the protocol hashes).
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

__all__ = [
    "HASH_LENGTH",
    "STATE_LENGTH",
    "TRANSFORM_INDICES",
    "TRUTH_TABLE",
    "Curl",
    "curl_hash",
    "hash_many",
    "new_state",
    "transform",
    "transform_kernel",
]

HASH_LENGTH = 243
STATE_LENGTH = 3 * HASH_LENGTH

_TRUTH_TABLE = np.array([1, 0, -1, 2, 1, -1, 0, 2, -1, 1, 0], dtype=np.int8)

# The transform reads state[p] and state[q] for each output trit; the index
# sequence never changes, so it is computed once.
_INDICES = np.zeros(STATE_LENGTH + 1, dtype=np.int64)
_index = 0
for _i in range(1, STATE_LENGTH + 1):
    _index += 364 if _index < 365 else -365
    _INDICES[_i] = _index


# The tables travel as arguments: numba freezes global arrays into the compiled
# code as constants, which measured ten times slower than reading arguments.
@numba.njit(cache=True, nogil=True, boundscheck=False)
def _transform(
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
def _absorb_squeeze(
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
        _transform(state, rounds, indices, table)
    out = np.empty(out_length, dtype=np.int8)
    for offset in range(0, out_length, HASH_LENGTH):
        end = min(offset + HASH_LENGTH, out_length)
        out[offset:end] = state[: end - offset]
        _transform(state, rounds, indices, table)
    return out


# For other numba kernels (MAM's hash chains, proof of work): jitted code must
# call the jitted transform directly and hand it these tables.
transform_kernel = _transform
TRANSFORM_INDICES = _INDICES
TRUTH_TABLE = _TRUTH_TABLE


def new_state() -> npt.NDArray[np.int8]:
    """A zeroed 729-trit sponge state."""
    return np.zeros(STATE_LENGTH, dtype=np.int8)


def transform(state: npt.NDArray[np.int8], rounds: int = 81) -> None:
    """Apply the Curl-P transform to ``state`` in place."""
    _transform(state, rounds, _INDICES, _TRUTH_TABLE)


def curl_hash(
    trits: npt.ArrayLike, rounds: int = 81, length: int = HASH_LENGTH
) -> npt.NDArray[np.int8]:
    """Absorb ``trits`` into a fresh sponge and squeeze ``length`` trits."""
    data = np.ascontiguousarray(trits, dtype=np.int8)
    return _absorb_squeeze(new_state(), data, length, rounds, _INDICES, _TRUTH_TABLE)


class Curl:
    """A stateful Curl-P sponge with IRI's absorb/squeeze semantics."""

    def __init__(self, rounds: int = 81) -> None:
        if rounds not in (27, 81):
            raise ValueError("Curl-P rounds must be 27 or 81")
        self.rounds = rounds
        self.state = new_state()

    def reset(self) -> None:
        self.state[:] = 0

    def absorb(self, trits: npt.ArrayLike) -> None:
        data = np.ascontiguousarray(trits, dtype=np.int8)
        for offset in range(0, data.shape[0], HASH_LENGTH):
            chunk = data[offset : offset + HASH_LENGTH]
            self.state[: chunk.shape[0]] = chunk
            _transform(self.state, self.rounds, _INDICES, _TRUTH_TABLE)

    def squeeze(self, length: int = HASH_LENGTH) -> npt.NDArray[np.int8]:
        out = np.empty(length, dtype=np.int8)
        for offset in range(0, length, HASH_LENGTH):
            end = min(offset + HASH_LENGTH, length)
            out[offset:end] = self.state[: end - offset]
            _transform(self.state, self.rounds, _INDICES, _TRUTH_TABLE)
        return out


# --- bit-sliced batch hashing -------------------------------------------------
#
# 64 sponges run side by side, one per bit of a uint64: each trit is a pair of
# bits (low, high) with 0 -> (1, 1), 1 -> (0, 1), -1 -> (1, 0), the encoding
# IRI's PearlDiver uses. One bitwise expression then transforms 64 states at
# once, which is what makes validating thousands of transactions a second fit
# on two cores.


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _sliced_hash_words(
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
    for lane in range(count):
        bit = np.uint64(1) << np.uint64(lane)
        for t in range(HASH_LENGTH):
            lo = low[t] & bit
            hi = high[t] & bit
            if lo == 0:
                out[first + lane, t] = 1
            elif hi == 0:
                out[first + lane, t] = -1
            else:
                out[first + lane, t] = 0


@numba.njit(cache=True, nogil=True)
def _sliced_hash_many(
    batch: npt.NDArray[np.int8], rounds: int, indices: npt.NDArray[np.int64]
) -> npt.NDArray[np.int8]:  # pragma: no cover - jitted
    out = np.empty((batch.shape[0], HASH_LENGTH), dtype=np.int8)
    for first in range(0, batch.shape[0], 64):
        count = min(64, batch.shape[0] - first)
        _sliced_hash_words(batch, first, count, rounds, indices, out)
    return out


def hash_many(batch: npt.ArrayLike, rounds: int = 81) -> npt.NDArray[np.int8]:
    """Hash every row of a 2-D trit array; one 243-trit hash per row.

    Rows are hashed 64 at a time in bit-sliced form; a batch of one costs about
    what :func:`curl_hash` does, a batch of 64 about the same again in total.
    """
    data = np.ascontiguousarray(batch, dtype=np.int8)
    if data.ndim != 2:
        raise ValueError("hash_many expects a 2-D array of trits")
    if data.shape[0] == 0:
        return np.empty((0, HASH_LENGTH), dtype=np.int8)
    return _sliced_hash_many(data, rounds, _INDICES)
