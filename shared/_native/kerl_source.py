"""Numba source of Kerl's trit<->byte conversions (JIT in development, AOT-compiled for images).

Only ``shared._native`` imports this module; ``shared.iota.kerl`` gets the kernels through
that selector. The conversions work on 32-bit limbs held in uint64 so carries never overflow.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

TRIT_HASH_LENGTH = 243
_WORDS = 13  # 13 x 32 bits covers 3^243 (about 2^385.2) with room for carries


@numba.njit(cache=True, nogil=True, boundscheck=False)
def to_bytes(
    trits: npt.NDArray[np.int8], half: npt.NDArray[np.uint64], out: npt.NDArray[np.uint8]
) -> None:  # pragma: no cover - jitted
    words = np.zeros(_WORDS, dtype=np.uint64)
    mask = np.uint64(0xFFFFFFFF)
    # Horner over the unsigned digits (trit + 1), most significant first.
    for i in range(241, -1, -1):
        carry = np.uint64(trits[i] + 1)
        for w in range(_WORDS):
            v = words[w] * np.uint64(3) + carry
            words[w] = v & mask
            carry = v >> np.uint64(32)
    # Subtract the offset: the signed value modulo 2^416, i.e. two's complement.
    borrow = np.uint64(0)
    for w in range(_WORDS):
        a = words[w] + (mask + np.uint64(1))
        v = a - half[w] - borrow
        words[w] = v & mask
        borrow = np.uint64(1) if v <= mask else np.uint64(0)
    # Big-endian bytes of the low 384 bits.
    for w in range(12):
        word = words[w]
        base = 47 - 4 * w
        for b in range(4):
            out[base - b] = np.uint8((word >> np.uint64(8 * b)) & np.uint64(0xFF))


@numba.njit(cache=True, nogil=True, boundscheck=False)
def to_trits(
    data: npt.NDArray[np.uint8], half: npt.NDArray[np.uint64], out: npt.NDArray[np.int8]
) -> None:  # pragma: no cover - jitted
    words = np.zeros(_WORDS, dtype=np.uint64)
    mask = np.uint64(0xFFFFFFFF)
    for w in range(12):
        base = 47 - 4 * w
        word = np.uint64(0)
        for b in range(4):
            word |= np.uint64(data[base - b]) << np.uint64(8 * b)
        words[w] = word
    if data[0] >= 128:  # negative: sign-extend into the 13th limb
        words[12] = mask
    # Add the offset modulo 2^416 so the value becomes unsigned base-3 digits.
    carry = np.uint64(0)
    for w in range(_WORDS):
        v = words[w] + half[w] + carry
        words[w] = v & mask
        carry = v >> np.uint64(32)
    for i in range(TRIT_HASH_LENGTH):
        remainder = np.uint64(0)
        for w in range(_WORDS - 1, -1, -1):
            v = (remainder << np.uint64(32)) | words[w]
            words[w] = v // np.uint64(3)
            remainder = v % np.uint64(3)
        out[i] = np.int8(np.int64(remainder) - 1)
    out[TRIT_HASH_LENGTH - 1] = 0
