"""Proof of work for attachToTangle: a numba bit-sliced PearlDiver, and IRI's attach rules.

The search kernel lives in ``shared._native.pow_source`` and is loaded (JIT or AOT)
through ``shared._native``.

Why not pyota-pow's libccurl: measured here at MWM 9 (bench/devnet/pow_compare.py)
the C library took ~0.2 s a transaction (it starts threads per call, leaks the
returned buffer and calls logging.basicConfig on import), while this search takes
a few tens of milliseconds single-threaded: the state after the first 32 blocks
is computed once and 64 nonces are tried per Curl transform, one per bit of a
uint64, in IRI's (low, high) trit encoding.
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
    curl_hash,
    new_state,
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
_LANE_TRITS = 4  # 3^4 = 81 >= 64 lanes: the first nonce trits tell the lanes apart
_CHUNK_ITERATIONS = 2000  # search in slices so an interrupt is noticed quickly


class PowInterrupted(RuntimeError):
    """interruptAttachingToTangle stopped the search."""


_search = _kernels.pow_search


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
    state = new_state()
    for offset in range(0, _LAST_BLOCK, HASH_LENGTH):
        state[:HASH_LENGTH] = data[offset : offset + HASH_LENGTH]
        transform(state, 81)
    block = data[_LAST_BLOCK:].copy()
    block[_NONCE_IN_BLOCK:] = 0
    fixed_prefix = block[: _NONCE_IN_BLOCK + _LANE_TRITS].copy()
    out = np.empty(HASH_LENGTH, dtype=np.int8)
    while True:
        if interrupted is not None and getattr(interrupted, "is_set", lambda: False)():
            raise PowInterrupted("attachToTangle interrupted")
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError("proof of work took too long")
        found = _search(state, block, mwm, TRANSFORM_INDICES, _CHUNK_ITERATIONS, out)
        if found:
            data[_LAST_BLOCK:] = out
            return data
        # _search wrote the counter back into block; restore the fixed part.
        block[: _NONCE_IN_BLOCK + _LANE_TRITS] = fixed_prefix


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
    batch = parse_many(list(trytes_list), with_hashes=False)
    order = sorted(
        range(len(trytes_list)), key=lambda i: batch.transactions[i].current_index, reverse=True
    )
    previous: str | None = None
    attached: list[str] = []
    for i in order:
        tx = batch.transactions[i]
        trytes = trytes_list[i]
        this_trunk, this_branch = (trunk, branch) if previous is None else (previous, trunk)
        tag = tx.tag if tx.tag != "9" * 27 else tx.obsolete_tag
        stamp = int(time.time() * 1000) if now_ms is None else now_ms
        new = (
            trytes[:2430]
            + this_trunk
            + this_branch
            + tag
            + _int_trytes(stamp, 9)
            + _int_trytes(0, 9)
            + _int_trytes(MAX_TIMESTAMP_VALUE, 9)
            + "9" * 27
        )
        assert len(new) == TRANSACTION_TRYTES
        done = find_nonce(trytes_to_trits(new), mwm, interrupted=interrupted)
        final = trits_to_trytes(done)
        previous = trits_to_trytes(curl_hash(done))
        attached.append(final)
    attached.reverse()
    return attached
