"""Numba source of the bit-sliced PearlDiver nonce search (JIT in development, AOT for images).

Only ``shared._native`` imports this module; ``shared.iota.pow`` drives the search through
that selector, in slices, so an interrupt or a deadline is noticed between calls.

Layout: every trit of the Curl state is ``WORDS`` uint64 words of "low" bits followed by
``WORDS`` words of "high" bits (IRI's PearlDiver encoding, 0 -> (1, 1), 1 -> (0, 1),
-1 -> (1, 0)), so one transform tries ``64 * WORDS`` nonces, one per bit. A round is
emitted as LLVM vector code (``_sliced_round``): numba leaves the SLP vectoriser off and
the loop vectoriser does not fire on a fixed 4-word inner loop, so plain numba code stays
scalar (measured: 4 words cost 4 times 1 word). One ``<WORDS x i64>`` operation is an
AVX2 instruction on the JIT host and two SSE2 ones on the generic-x86-64 AOT build; the
nonces found are the same either way.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
import numpy.typing as npt
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

HASH_LENGTH = 243
STATE_LENGTH = 3 * HASH_LENGTH
ROUNDS = 81
# Measured on the AMD EPYC dev host (bench/devnet/pow_compare.py): 2, 4 and 8 words all
# run at ~250 ns a nonce, as the ping-ponged state (2 x 729 x 2 x WORDS x 8 bytes) no
# longer fits in L1 from 2 words on and the round streams from L2; 1 word (no vectors)
# costs ~950 ns. 4 words was the fastest by a little, and at MWM 9 (~20,000 nonces
# expected) 256 nonces a transform wastes little past the winner.
WORDS = 4
LANES = 64 * WORDS
# The nonce is the last 81 trits of the 8019-trit transaction, i.e. trits 162..242 of its
# last 243-trit block (8019 - 81 - 7776). shared.iota.pow derives the same numbers from the
# transaction layout; the AOT-vs-JIT test checks found nonces against Curl.
_NONCE_IN_BLOCK = 162
_LANE_TRITS = 6  # 3^6 = 729 >= 256 lanes: the first nonce trits tell the lanes apart
COUNTER_START = _NONCE_IN_BLOCK + _LANE_TRITS


def _sliced_round_typer(typingctx, src, dst, indices, start, stop):
    """One Curl round on ``(729, 2, WORDS)`` uint64 states: ``dst[i]`` for start <= i < stop.

    Output trit i reads trits p = indices[i] and q = indices[i + 1] of ``src``; the next
    output's p is this one's q, so each step loads one trit (two vectors) and carries the
    other, which halves the loads of the plain-numba loop. ``src`` and ``dst`` must be
    distinct C-contiguous arrays of that shape (the callers allocate them).
    """
    sig = types.void(src, dst, indices, start, stop)

    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        vector = ir.VectorType(i64, WORDS)
        ones = ir.Constant(vector, [ir.Constant(i64, -1)] * WORDS)
        source = builder.bitcast(
            context.make_array(signature.args[0])(context, builder, args[0]).data,
            vector.as_pointer(),
        )
        target = builder.bitcast(
            context.make_array(signature.args[1])(context, builder, args[1]).data,
            vector.as_pointer(),
        )
        index = context.make_array(signature.args[2])(context, builder, args[2]).data
        first, last = args[3], args[4]

        def load_trit(position: ir.Value) -> tuple[ir.Value, ir.Value]:
            offset = builder.mul(position, i64(2))
            low = builder.load(builder.gep(source, [offset]), align=8)
            high = builder.load(builder.gep(source, [builder.add(offset, i64(1))]), align=8)
            return low, high

        alpha0, beta0 = load_trit(builder.load(builder.gep(index, [first])))
        alpha_slot = cgutils.alloca_once_value(builder, alpha0)
        beta_slot = cgutils.alloca_once_value(builder, beta0)
        with cgutils.for_range_slice(builder, first, last, i64(1)) as (i, _):
            alpha = builder.load(alpha_slot)  # low[p]
            beta = builder.load(beta_slot)  # high[p]
            q = builder.load(builder.gep(index, [builder.add(i, i64(1))]))
            low_q, gamma = load_trit(q)  # low[q], high[q]
            delta = builder.and_(
                builder.or_(alpha, builder.xor(gamma, ones)), builder.xor(low_q, beta)
            )
            offset = builder.mul(i, i64(2))
            builder.store(builder.xor(delta, ones), builder.gep(target, [offset]), align=8)
            builder.store(
                builder.or_(builder.xor(alpha, gamma), delta),
                builder.gep(target, [builder.add(offset, i64(1))]),
                align=8,
            )
            builder.store(low_q, alpha_slot)
            builder.store(gamma, beta_slot)
        return context.get_dummy_value()

    return sig, codegen


# Called from jitted code only: _sliced_round(src, dst, indices, start, stop).
_sliced_round: Any = intrinsic(_sliced_round_typer)


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
        # Round 1 reads base, rounds 2..81 alternate b <- a, a <- b; only the trits the
        # weight check reads are computed in the last round.
        _sliced_round(base, a, indices, 0, STATE_LENGTH)
        for _r in range((ROUNDS - 1) // 2 - 1):
            _sliced_round(a, b, indices, 0, STATE_LENGTH)
            _sliced_round(b, a, indices, 0, STATE_LENGTH)
        _sliced_round(a, b, indices, 0, STATE_LENGTH)
        _sliced_round(b, a, indices, first_checked, HASH_LENGTH)
        for w in range(WORDS):
            mask = ones
            for i in range(first_checked, HASH_LENGTH):
                mask &= a[i, 0, w] & a[i, 1, w]
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
