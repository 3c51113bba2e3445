"""Numba source of the Curl-P kernels (JIT in development, AOT-compiled for images).

Only ``shared._native`` imports this module: the public ``shared.iota.curl`` gets the
kernels through that selector, so a container image with the ahead-of-time compiled
module needs neither numba nor llvmlite. The transform is also called from the other
kernel sources (MAM, proof of work), which is why it is a plain ``@njit`` function here.
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
# on two cores. sliced_transform is that one-word form (the MAM kernels use it);
# batch hashing and the proof of work use the 4-word form below.


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


# --- wide bit-sliced state ------------------------------------------------------
#
# WIDE_WORDS uint64 words a trit: (729, 2, WIDE_WORDS) arrays, [t, 0] the low words and
# [t, 1] the high words, so 64 * WIDE_WORDS sponges run side by side. The round is LLVM
# vector code (wide_round): numba runs LLVM without the SLP vectoriser and the loop
# vectoriser leaves a fixed 4-word loop alone, so the same round written as numba loops
# stayed scalar (4 words cost 4 times 1 word). A <4 x i64> operation is one AVX2
# instruction under JIT on the dev host and two SSE2 ones in the generic-x86-64 AOT build.
# Measured (bench/devnet/pow_compare.py, AMD EPYC): 2, 4 and 8 words all ~250 ns a
# sponge-transform, since from 2 words on the two ping-ponged buffers outgrow L1 and a
# round streams from L2; 1 word ~950 ns. 4 was the fastest by a little.
WIDE_WORDS = 4
WIDE_LANES = 64 * WIDE_WORDS


def _wide_round_typer(typingctx, src, dst, indices, start, stop):
    """One Curl round on ``(729, 2, WIDE_WORDS)`` uint64 states: ``dst[i]`` for start <= i < stop.

    Output trit i reads trits p = indices[i] and q = indices[i + 1] of ``src``; the next
    output's p is this one's q, so each step loads one trit (two vectors) and carries the
    other, which halves the loads of the plain-numba loop. ``src`` and ``dst`` must be
    distinct C-contiguous arrays of that shape (the callers allocate them).
    """
    sig = types.void(src, dst, indices, start, stop)

    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        vector = ir.VectorType(i64, WIDE_WORDS)
        ones = ir.Constant(vector, [ir.Constant(i64, -1)] * WIDE_WORDS)
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


# Called from jitted code only: wide_round(src, dst, indices, start, stop).
wide_round: Any = intrinsic(_wide_round_typer)


@numba.njit(cache=True, nogil=True, boundscheck=False)
def wide_absorb(
    batch: npt.NDArray[np.int8],
    rounds: int,
    indices: npt.NDArray[np.int64],
    out: npt.NDArray[np.int8],
) -> None:  # pragma: no cover - jitted
    """Absorb each row of ``batch``, 256 rows at a time; ``out[row]`` gets the first
    ``out.shape[1]`` trits of its state (243: the hash; 729: the state, to absorb more)."""
    ones = np.uint64(0xFFFFFFFFFFFFFFFF)
    n = batch.shape[0]
    length = batch.shape[1]
    a = np.empty((STATE_LENGTH, 2, WIDE_WORDS), dtype=np.uint64)
    b = np.empty((STATE_LENGTH, 2, WIDE_WORDS), dtype=np.uint64)
    for first in range(0, n, WIDE_LANES):
        count = min(WIDE_LANES, n - first)
        state = a
        spare = b
        state[:] = ones
        for offset in range(0, length, HASH_LENGTH):
            block = min(HASH_LENGTH, length - offset)
            state[:block] = ones
            # Row by row: reading batch column-wise (a lane per step) strode 8 KB a read.
            # Branch-free: random trits made the branches a coin toss.
            for lane in range(count):
                w = lane // 64
                shift = np.uint64(lane % 64)
                for t in range(block):
                    trit = batch[first + lane, offset + t]
                    state[t, 0, w] &= ~(np.uint64(trit == 1) << shift)
                    state[t, 1, w] &= ~(np.uint64(trit == -1) << shift)
            for _ in range(rounds):
                wide_round(state, spare, indices, 0, STATE_LENGTH)
                state, spare = spare, state
        # (low, high) bits (0, 1) -> 1, (1, 0) -> -1, (1, 1) -> 0: high - low.
        for lane in range(count):
            w = lane // 64
            shift = np.uint64(lane % 64)
            for t in range(out.shape[1]):
                low = np.int8((state[t, 0, w] >> shift) & np.uint64(1))
                high = np.int8((state[t, 1, w] >> shift) & np.uint64(1))
                out[first + lane, t] = high - low


@numba.njit(cache=True, nogil=True)
def sliced_hash_many(
    batch: npt.NDArray[np.int8], rounds: int, indices: npt.NDArray[np.int64]
) -> npt.NDArray[np.int8]:  # pragma: no cover - jitted
    """The 243-trit hash of each row (absorb, squeeze once)."""
    out = np.empty((batch.shape[0], HASH_LENGTH), dtype=np.int8)
    wide_absorb(batch, rounds, indices, out)
    return out


@numba.njit(cache=True, nogil=True)
def sliced_absorb_many(
    batch: npt.NDArray[np.int8], rounds: int, indices: npt.NDArray[np.int64]
) -> npt.NDArray[np.int8]:  # pragma: no cover - jitted
    """The 729-trit sponge state after absorbing each row (no squeeze)."""
    out = np.empty((batch.shape[0], STATE_LENGTH), dtype=np.int8)
    wide_absorb(batch, rounds, indices, out)
    return out
