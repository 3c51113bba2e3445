"""Pascal encoding of non-negative integers in trits, as MAM v0 frames its payload.

The value is written in balanced trytes; every tryte but the last is made non-positive
and the last positive by negating some of them, and one trit per tryte records which
were negated. A reader finds the end of the number at the first positive tryte, so no
length prefix is needed. Zero has its own 4-trit code.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from shared.iota.trinary import int_from_trits, int_to_trits
from shared.mam.errors import MamPayloadError

__all__ = ["pascal_decode", "pascal_encode"]

_ZERO = np.array([1, 0, 0, -1], dtype=np.int8)


def _tryte_value(trits: npt.NDArray[np.int8]) -> int:
    return int(trits[0]) + 3 * int(trits[1]) + 9 * int(trits[2])


def _min_trits(value: int) -> int:
    # smallest n with value <= (3^n - 1) / 2
    n, basis = 1, 1
    while value > basis:
        basis = 1 + 3 * basis
        n += 1
    return n


def pascal_encode(value: int) -> npt.NDArray[np.int8]:
    """Trits of ``value`` (>= 0) in pascal encoding."""
    if value < 0:
        raise ValueError(f"pascal encoding takes a non-negative integer, not {value}")
    if value == 0:
        return _ZERO.copy()
    length = -(-_min_trits(value) // 3) * 3
    trytes = length // 3
    out = np.zeros(length + trytes, dtype=np.int8)
    out[:length] = int_to_trits(value, length)
    encoding = 0
    for i in range(trytes - 1):
        part = out[3 * i : 3 * i + 3]
        if _tryte_value(part) >= 0:
            encoding |= 1 << i
            part *= -1
    last = out[length - 3 : length]
    if _tryte_value(last) < 0:
        encoding |= 1 << (trytes - 1)
        last *= -1
    out[length:] = int_to_trits(encoding, trytes)
    return out


def pascal_decode(trits: npt.NDArray[np.int8]) -> tuple[int, int]:
    """Decode the number at the start of ``trits``: (value, trits consumed)."""
    if trits.shape[0] >= 4 and np.array_equal(trits[:4], _ZERO):
        return 0, 4
    end = 0
    while True:
        if end + 3 > trits.shape[0]:
            raise MamPayloadError("corrupted payload: a pascal-encoded number has no end")
        end += 3
        if _tryte_value(trits[end - 3 : end]) > 0:
            break
    trytes = end // 3
    if end + trytes > trits.shape[0]:
        raise MamPayloadError("corrupted payload: a pascal-encoded number is cut short")
    encoding = int_from_trits(trits[end : end + trytes])
    value = 0
    for i in range(trytes):
        part = _tryte_value(trits[3 * i : 3 * i + 3])
        value += 27**i * (-part if (encoding >> i) & 1 else part)
    return value, end + trytes
