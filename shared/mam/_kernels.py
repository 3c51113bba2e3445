"""Compiled hot loops of MAM v0: hash chains over many key fragments and the nonce search.

A Winternitz key of security 2 has 54 fragments and every fragment is hashed up to 27
times; hashed one after the other that is ~1,500 Curl-P-27 transforms per leaf. The
chains are independent, so they run bit-sliced (64 lanes per uint64, the PearlDiver
encoding also used by ``shared.iota.curl.hash_many``) and a whole leaf costs ~27
transforms. ``shared.iota.curl`` keeps its bit-sliced round inlined in ``hash_many``;
a chain needs the lanes captured at different steps, hence the small round there.

The kernels themselves live in ``shared._native.mam_source`` (numba) and are loaded JIT
or ahead-of-time compiled through ``shared._native``; this module checks the inputs.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from shared._native import kernels as _kernels
from shared.iota.curl import TRANSFORM_INDICES as _INDICES
from shared.iota.curl import TRUTH_TABLE as _TRUTH_TABLE

__all__ = ["hamming_nonce", "hash_chains"]

_HASH = 243
_STATE = 729
_NONCE = 81


_hash_chains = _kernels.mam_hash_chains
_hamming_nonce = _kernels.mam_hamming_nonce


def hash_chains(
    rows: npt.ArrayLike, counts: npt.ArrayLike, rounds: int = 27
) -> npt.NDArray[np.int8]:
    """Hash row ``i`` of a (n, 243) trit array ``counts[i]`` times, each hash a fresh Curl-P.

    One hash is: reset the sponge, absorb the 243 trits, take the rate after one transform.
    """
    data = np.ascontiguousarray(rows, dtype=np.int8)
    steps = np.ascontiguousarray(counts, dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != _HASH:
        raise ValueError("hash_chains expects an (n, 243) trit array")
    if steps.shape != (data.shape[0],) or (steps < 0).any():
        raise ValueError("hash_chains needs one non-negative count per row")
    return _hash_chains(data, steps, rounds, _INDICES)


# The 64 candidate values of the first four nonce trits, lane by lane: the constants
# of IOTA's PearlDiver (and of mam.js's HammingDiver) in their low/high bit encoding.
_LOW = (0xDB6DB6DB6DB6DB6D, 0xF1F8FC7E3F1F8FC7, 0x7FFFE00FFFFC01FF, 0xFFC0000007FFFFFF)
_HIGH = (0xB6DB6DB6DB6DB6DB, 0x8FC7E3F1F8FC7E3F, 0xFFC01FFFF803FFFF, 0x003FFFFFFFFFFFFF)


def _lane_trits() -> npt.NDArray[np.int8]:
    table = np.zeros((64, 4), dtype=np.int8)
    for lane in range(64):
        for position in range(4):
            low = (_LOW[position] >> lane) & 1
            high = (_HIGH[position] >> lane) & 1
            table[lane, position] = (
                -1 if (low, high) == (1, 0) else 1 if (low, high) == (0, 1) else 0
            )
    return table


_LANE_TRITS = _lane_trits()


def hamming_nonce(state: npt.ArrayLike, security: int) -> npt.NDArray[np.int8]:
    """The 81-trit nonce mam.js's HammingDiver finds for a 729-trit sponge ``state``.

    Absorbing the nonce makes the rate's first ``81 * security`` trits sum to zero, and
    no shorter prefix of 81-trit blocks does (that is how a reader learns the security).
    """
    data = np.ascontiguousarray(state, dtype=np.int8)
    if data.shape != (_STATE,):
        raise ValueError("hamming_nonce expects the full 729-trit sponge state")
    if security not in (1, 2, 3):
        raise ValueError(f"security must be 1, 2 or 3, not {security}")
    nonce = _hamming_nonce(data, security, _LANE_TRITS, _INDICES, _TRUTH_TABLE)
    if nonce.shape[0] != _NONCE:
        raise RuntimeError("nonce search exhausted its counter")
    return nonce
