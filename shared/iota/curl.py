"""Curl-P sponge (27 or 81 rounds), compiled with numba.

Pure-Python Curl costs milliseconds a hash; transaction validation and MAM
hash thousands of times per operation, so the transform is compiled: numba JIT
(``cache=True`` keeps the machine code between runs) in development, ahead of
time in container images (see ``shared._native``; the kernels live in
``shared._native.curl_source``). ``hash_many`` hashes a
batch of equal-length inputs in one call, which is what the devnet does with
a ``storeTransactions`` body.

Absorbing follows IRI and iota.js: a ragged last block overwrites the start of
the state and leaves the rest (PyOTA's pure-Python Curl zero-pads it instead;
the two agree on whole 243-trit blocks, which is all the protocol hashes).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from shared._native import kernels as _kernels

__all__ = [
    "HASH_LENGTH",
    "STATE_LENGTH",
    "TRANSFORM_INDICES",
    "TRUTH_TABLE",
    "Curl",
    "absorb_many",
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


_transform = _kernels.curl_transform
_absorb_squeeze = _kernels.curl_absorb_squeeze
_sliced_hash_many = _kernels.curl_sliced_hash_many
_sliced_absorb_many = _kernels.curl_sliced_absorb_many


# The tables every transform kernel takes as arguments (numba freezes global arrays into
# compiled code as constants, which measured ten times slower than reading arguments).
# Numba kernels that need the transform import it from shared._native.curl_source;
# transform_kernel is the compiled one (JIT or AOT) for callers from Python.
transform_kernel = _transform
TRANSFORM_INDICES = _INDICES
TRUTH_TABLE = _TRUTH_TABLE


def new_state() -> npt.NDArray[np.int8]:
    """A zeroed 729-trit sponge state."""
    return np.zeros(STATE_LENGTH, dtype=np.int8)


def transform(state: npt.NDArray[np.int8], rounds: int = 81) -> None:
    """Apply the Curl-P transform to ``state`` in place."""
    if not (
        isinstance(state, np.ndarray)
        and state.dtype == np.int8
        and state.shape == (STATE_LENGTH,)
        and state.flags.c_contiguous
        and state.flags.writeable
    ):
        # The kernels trust their arguments (no bounds checks, no dtype checks when AOT).
        raise ValueError("transform needs a writable, contiguous int8 state of 729 trits")
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
# 256 sponges run side by side, one per bit of four uint64 words (IRI's PearlDiver
# encoding); the kernels are shared._native.curl_source.sliced_hash_many and
# sliced_absorb_many (both on wide_absorb).


def hash_many(batch: npt.ArrayLike, rounds: int = 81) -> npt.NDArray[np.int8]:
    """Hash every row of a 2-D trit array; one 243-trit hash per row.

    Rows are hashed 256 at a time in bit-sliced form; a batch of one costs about
    what :func:`curl_hash` does, a batch of 256 a little more in total.
    """
    return _per_row(_sliced_hash_many, batch, rounds, HASH_LENGTH, "hash_many")


def absorb_many(batch: npt.ArrayLike, rounds: int = 81) -> npt.NDArray[np.int8]:
    """The 729-trit sponge state after absorbing every row of a 2-D trit array (no squeeze).

    Bit-sliced like :func:`hash_many`: the proof of work absorbs the first 30 blocks of all
    a bundle's transactions at once (they do not depend on the trunk/branch chaining).
    Rows should be whole 243-trit blocks.
    """
    return _per_row(_sliced_absorb_many, batch, rounds, STATE_LENGTH, "absorb_many")


def _per_row(
    kernel: Callable[..., npt.NDArray[np.int8]],
    batch: npt.ArrayLike,
    rounds: int,
    width: int,
    name: str,
) -> npt.NDArray[np.int8]:
    """``kernel`` over the rows of a 2-D trit array, ``width`` trits out per row; the
    kernels trust their arguments, so the shape is checked here."""
    data = np.ascontiguousarray(batch, dtype=np.int8)
    if data.ndim != 2:
        raise ValueError(f"{name} expects a 2-D array of trits")
    if data.shape[0] == 0:
        return np.empty((0, width), dtype=np.int8)
    return kernel(data, rounds, _INDICES)
