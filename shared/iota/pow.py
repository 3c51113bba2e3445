"""Proof of work for attachToTangle: a numba bit-sliced PearlDiver, and IRI's attach rules.

The search kernel lives in ``shared._native.pow_source`` and is loaded (JIT or AOT)
through ``shared._native``.

Why not pyota-pow's libccurl: measured here at MWM 9 (bench/devnet/pow_compare.py)
the C library took ~0.05-0.2 s a transaction (it starts threads per call, leaks the
returned buffer and calls logging.basicConfig on import), while this search takes
a few milliseconds single-threaded: the state before the last block is computed
once and 256 nonces are tried per Curl transform (4 uint64 words a trit, one nonce
per bit, in IRI's (low, high) trit encoding, as LLVM vector code).

``attach_bundle`` also keeps the Curl work around the search small: the first 30
blocks of every transaction (all but trunk, branch and the nonce block) are absorbed
for the whole bundle in one bit-sliced call, and a transaction's hash, which the next
one's trunk needs, is one transform of the state the search started from instead of a
33-block hash.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from shared._native import kernels as _kernels
from shared.iota.curl import (
    HASH_LENGTH,
    TRANSFORM_INDICES,
    absorb_many,
    transform,
)
from shared.iota.transaction import TRANSACTION_TRITS, TRANSACTION_TRYTES, parse_many
from shared.iota.trinary import int_to_trits, trits_to_trytes, trytes_to_trits

__all__ = [
    "MAX_TIMESTAMP_VALUE",
    "PowInterrupted",
    "attach_bundle",
    "find_nonce",
]

MAX_TIMESTAMP_VALUE = (3**27 - 1) // 2
_NONCE_START = TRANSACTION_TRITS - 81  # 7938: the nonce is the last 81 trits
_LAST_BLOCK = TRANSACTION_TRITS - HASH_LENGTH  # 7776
_NONCE_IN_BLOCK = _NONCE_START - _LAST_BLOCK  # 162
_TRUNK_START = _LAST_BLOCK - 2 * HASH_LENGTH  # 7290: trunk and branch are blocks 30 and 31
# Transforms (of 256 nonces each) per kernel call: ~20 ms, so an interrupt or the
# deadline is noticed quickly while the per-call overhead stays negligible.
_CHUNK_ITERATIONS = 300


class PowInterrupted(RuntimeError):
    """interruptAttachingToTangle stopped the search."""


_search = _kernels.pow_search


def _absorb(state: npt.NDArray[np.int8], trits: npt.NDArray[np.int8]) -> None:
    for offset in range(0, trits.shape[0], HASH_LENGTH):
        state[:HASH_LENGTH] = trits[offset : offset + HASH_LENGTH]
        transform(state, 81)


def _search_block(
    midstate: npt.NDArray[np.int8],
    last_block: npt.NDArray[np.int8],
    mwm: int,
    deadline: float | None,
    interrupted: object,
) -> npt.NDArray[np.int8]:
    """The last 243-trit block with a nonce that makes the hash end in ``mwm`` zeros."""
    block = np.array(last_block, dtype=np.int8)
    block[_NONCE_IN_BLOCK:] = 0  # the counter starts at 0
    out = np.empty(HASH_LENGTH, dtype=np.int8)
    while True:
        if interrupted is not None and getattr(interrupted, "is_set", lambda: False)():
            raise PowInterrupted("attachToTangle interrupted")
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError("proof of work took too long")
        # The kernel writes the counter it reached back into block when it finds nothing.
        if _search(midstate, block, mwm, TRANSFORM_INDICES, _CHUNK_ITERATIONS, out):
            return out


def find_nonce(
    trits: npt.NDArray[np.int8],
    mwm: int,
    *,
    deadline: float | None = None,
    interrupted: object = None,
) -> npt.NDArray[np.int8]:
    """Return ``trits`` (8019) with a nonce that makes the Curl-P-81 hash end in ``mwm`` zeros.

    ``interrupted`` may be a ``threading.Event``; the search checks it between slices.
    """
    data = np.array(trits, dtype=np.int8)
    if data.shape != (TRANSACTION_TRITS,):
        raise ValueError(f"need {TRANSACTION_TRITS} trits")
    if not 0 <= mwm <= HASH_LENGTH:
        raise ValueError("mwm out of range")
    state = absorb_many(data[np.newaxis, :_LAST_BLOCK])[0]  # the wide absorb, even for one
    data[_LAST_BLOCK:] = _search_block(state, data[_LAST_BLOCK:], mwm, deadline, interrupted)
    return data


def _int_trytes(value: int, trytes: int) -> str:
    return trits_to_trytes(int_to_trits(value, 3 * trytes))


def attach_bundle(
    trytes_list: Sequence[str],
    trunk: str,
    branch: str,
    mwm: int,
    *,
    now_ms: int | None = None,
    interrupted: object = None,
) -> list[str]:
    """IRI's attachToTangle: chain the bundle to ``trunk``/``branch``, do the PoW.

    Input in any order; processed head (highest currentIndex) first so each
    lower transaction can point its trunk at the next one's hash; the result
    is returned tail first, as IRI does.
    """
    if not 0 <= mwm <= HASH_LENGTH:
        raise ValueError("mwm out of range")
    if not trytes_list:
        return []
    batch = parse_many(list(trytes_list), with_hashes=False)
    order = sorted(
        range(len(trytes_list)), key=lambda i: batch.transactions[i].current_index, reverse=True
    )
    # Blocks 0..29 (signature to bundle hash) stay as given: absorb them for all at once.
    prefixes = np.stack([trytes_to_trits(trytes[: _TRUNK_START // 3]) for trytes in trytes_list])
    midstates = absorb_many(prefixes)
    previous: str | None = None
    attached: list[str] = []
    for i in order:
        tx = batch.transactions[i]
        trytes = trytes_list[i]
        this_trunk, this_branch = (trunk, branch) if previous is None else (previous, trunk)
        tag = tx.tag if tx.tag != "9" * 27 else tx.obsolete_tag
        stamp = int(time.time() * 1000) if now_ms is None else now_ms
        tail = (
            this_trunk
            + this_branch
            + tag
            + _int_trytes(stamp, 9)
            + _int_trytes(0, 9)
            + _int_trytes(MAX_TIMESTAMP_VALUE, 9)
            + "9" * 27
        )
        assert len(trytes[: _TRUNK_START // 3]) + len(tail) == TRANSACTION_TRYTES
        tail_trits = trytes_to_trits(tail)
        state = np.array(midstates[i], dtype=np.int8)
        _absorb(state, tail_trits[: 2 * HASH_LENGTH])  # trunk, branch
        tail_trits[2 * HASH_LENGTH :] = _search_block(
            state, tail_trits[2 * HASH_LENGTH :], mwm, None, interrupted
        )
        final = trytes[: _TRUNK_START // 3] + trits_to_trytes(tail_trits)
        # The hash absorbs the last block into ``state`` and squeezes 243 trits.
        _absorb(state, tail_trits[2 * HASH_LENGTH :])
        previous = trits_to_trytes(state[:HASH_LENGTH])
        attached.append(final)
    attached.reverse()
    return attached
