"""Numba source of the bit-sliced PearlDiver nonce search (JIT in development, AOT for images).

Only ``shared._native`` imports this module; ``shared.iota.pow`` drives the search through
that selector, in slices, so an interrupt or a deadline is noticed between calls.

Layout: the wide bit-sliced state of ``shared._native.curl_source`` (``wide_round``):
``WORDS`` (4) uint64 words a trit in IRI's (low, high) encoding, so one transform tries
``64 * WORDS`` nonces, one per bit, as LLVM vector code; the nonces found are the same
in JIT (AVX2 on the dev host) and in the generic-x86-64 AOT build (SSE2).
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

from shared._native.curl_source import WIDE_WORDS as WORDS
from shared._native.curl_source import wide_round as _sliced_round

HASH_LENGTH = 243
STATE_LENGTH = 3 * HASH_LENGTH
ROUNDS = 81
LANES = 64 * WORDS
# The nonce is the last 81 trits of the 8019-trit transaction, i.e. trits 162..242 of its
# last 243-trit block (8019 - 81 - 7776). shared.iota.pow derives the same numbers from the
# transaction layout; the AOT-vs-JIT test checks found nonces against Curl.
_NONCE_IN_BLOCK = 162
_LANE_TRITS = 6  # 3^6 = 729 >= 256 lanes: the first nonce trits tell the lanes apart
COUNTER_START = _NONCE_IN_BLOCK + _LANE_TRITS
_PARTIAL_ROUNDS = 10  # 10 rounds back from 1-243 checked trits the set is the whole state


@numba.njit(cache=True, nogil=True, boundscheck=False)
def search(
    midstate: npt.NDArray[np.int8],
    block: npt.NDArray[np.int8],
    mwm: int,
    indices: npt.NDArray[np.int64],
    max_iterations: int,
    out: npt.NDArray[np.int8],
) -> int:  # pragma: no cover - jitted
    """Fill ``out`` (243 trits of the last block) with a winning nonce; 1 found, 0 not yet.

    ``midstate`` is the sponge state before the last block; ``block`` that block. Trits
    ``COUNTER_START`` onwards of ``block`` are the counter the search starts from; when
    nothing is found in ``max_iterations`` transforms, the counter reached is written back
    there (the rest of ``block`` is left alone) so the next call carries on.
    """
    ones = np.uint64(0xFFFFFFFFFFFFFFFF)
    zero = np.uint64(0)
    # base: the state to try; the 81 rounds ping-pong between a and b, no copies.
    base = np.empty((STATE_LENGTH, 2, WORDS), dtype=np.uint64)
    a = np.empty((STATE_LENGTH, 2, WORDS), dtype=np.uint64)
    b = np.empty((STATE_LENGTH, 2, WORDS), dtype=np.uint64)
    for i in range(STATE_LENGTH):
        trit = block[i] if i < HASH_LENGTH else midstate[i]
        for w in range(WORDS):
            base[i, 0, w] = ones if trit != 1 else zero
            base[i, 1, w] = ones if trit != -1 else zero
    # Lane l = 64 * word + bit gets the base-3 digits of l (balanced: digit - 1) in the first
    # nonce trits, so no two lanes ever try the same nonce.
    for k in range(_LANE_TRITS):
        for w in range(WORDS):
            lo = ones
            hi = ones
            for bit_index in range(64):
                digit = ((64 * w + bit_index) // (3**k)) % 3 - 1
                bit = np.uint64(1) << np.uint64(bit_index)
                if digit == 1:
                    lo &= ~bit
                elif digit == -1:
                    hi &= ~bit
            base[_NONCE_IN_BLOCK + k, 0, w] = lo
            base[_NONCE_IN_BLOCK + k, 1, w] = hi
    first_checked = HASH_LENGTH - mwm
    # The last _PARTIAL_ROUNDS rounds compute only what the weight check depends on: the
    # checked trits in the last round, the trits those read one round earlier, and so on
    # (at most doubling a round back; 8.5 of 81 rounds saved at MWM 9). Each
    # round's set is kept as runs of consecutive outputs, the unit _sliced_round computes.
    needed = np.zeros((_PARTIAL_ROUNDS, STATE_LENGTH), dtype=np.bool_)
    for i in range(first_checked, HASH_LENGTH):
        needed[0, i] = True
    for k in range(1, _PARTIAL_ROUNDS):
        for i in range(STATE_LENGTH):
            if needed[k - 1, i]:
                needed[k, indices[i]] = True
                needed[k, indices[i + 1]] = True
    run_start = np.zeros((_PARTIAL_ROUNDS, STATE_LENGTH), dtype=np.int64)
    run_stop = np.zeros((_PARTIAL_ROUNDS, STATE_LENGTH), dtype=np.int64)
    runs = np.zeros(_PARTIAL_ROUNDS, dtype=np.int64)
    for k in range(_PARTIAL_ROUNDS):
        i = 0
        while i < STATE_LENGTH:
            if needed[k, i]:
                start = i
                while i < STATE_LENGTH and needed[k, i]:
                    i += 1
                run_start[k, runs[k]] = start
                run_stop[k, runs[k]] = i
                runs[k] += 1
            else:
                i += 1
    for _ in range(max_iterations):
        # Increment the shared counter (balanced ternary) in the remaining nonce trits.
        for t in range(COUNTER_START, HASH_LENGTH):
            lo = base[t, 0, 0]
            hi = base[t, 1, 0]
            if lo == ones and hi == ones:  # 0 -> 1
                new_lo, new_hi, carry = zero, ones, False
            elif lo == zero:  # 1 -> -1, carry
                new_lo, new_hi, carry = ones, zero, True
            else:  # -1 -> 0
                new_lo, new_hi, carry = ones, ones, False
            for w in range(WORDS):
                base[t, 0, w] = new_lo
                base[t, 1, w] = new_hi
            if not carry:
                break
        # Round 1 reads base; then the rounds ping-pong between a and b (no copies).
        _sliced_round(base, a, indices, 0, STATE_LENGTH)
        source = a
        target = b
        for r in range(2, ROUNDS + 1):
            k = ROUNDS - r  # 0: the last round
            if k >= _PARTIAL_ROUNDS:
                _sliced_round(source, target, indices, 0, STATE_LENGTH)
            else:
                for run in range(runs[k]):
                    _sliced_round(source, target, indices, run_start[k, run], run_stop[k, run])
            source, target = target, source
        hashed = source  # the state after round 81
        for w in range(WORDS):
            mask = ones
            for i in range(first_checked, HASH_LENGTH):
                mask &= hashed[i, 0, w] & hashed[i, 1, w]
                if mask == zero:
                    break
            if mask != zero:
                bit_index = 0
                while (mask >> np.uint64(bit_index)) & np.uint64(1) == zero:
                    bit_index += 1
                bit = np.uint64(1) << np.uint64(bit_index)
                for i in range(HASH_LENGTH):
                    if base[i, 0, w] & bit == zero:
                        out[i] = 1
                    elif base[i, 1, w] & bit == zero:
                        out[i] = -1
                    else:
                        out[i] = 0
                return 1
    # Save progress: the counter goes back into ``block`` for the next call.
    for i in range(HASH_LENGTH):
        out[i] = 2  # marker: no result
    for i in range(COUNTER_START, HASH_LENGTH):
        if base[i, 0, 0] == zero:
            block[i] = 1
        elif base[i, 1, 0] == zero:
            block[i] = -1
        else:
            block[i] = 0
    return 0
