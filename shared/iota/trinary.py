"""Trytes <-> trits <-> integers, vectorised with numpy.

Trits are balanced (-1, 0, 1) and little-endian inside a tryte; a tryte is one
of ``9ABCDEFGHIJKLMNOPQRSTUVWXYZ`` with the values 0, 1..13, -13..-1.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "TRYTE_ALPHABET",
    "TritArray",
    "int_from_trits",
    "int_to_trits",
    "is_trytes",
    "trits_to_trytes",
    "trytes_to_trits",
]

TRYTE_ALPHABET = "9ABCDEFGHIJKLMNOPQRSTUVWXYZ"
TritArray = npt.NDArray[np.int8]

_TRYTE_VALUES = np.zeros(256, dtype=np.int8)
_VALID = np.zeros(256, dtype=bool)
for _i, _c in enumerate(TRYTE_ALPHABET):
    _TRYTE_VALUES[ord(_c)] = _i if _i <= 13 else _i - 27
    _VALID[ord(_c)] = True

# _TRITS_OF[value + 13] -> the 3 trits of a tryte value
_TRITS_OF = np.zeros((27, 3), dtype=np.int8)
for _v in range(-13, 14):
    _rest = _v
    for _k in range(3):
        _r = ((_rest + 1) % 3) - 1
        _TRITS_OF[_v + 13, _k] = _r
        _rest = (_rest - _r) // 3

_CHAR_OF = np.frombuffer(("NOPQRSTUVWXYZ" + "9ABCDEFGHIJKLM").encode(), dtype=np.uint8)


def is_trytes(text: str | bytes, length: int | None = None) -> bool:
    """True when ``text`` holds only tryte characters (and has ``length`` of them)."""
    raw = text.encode("ascii", "replace") if isinstance(text, str) else bytes(text)
    if length is not None and len(raw) != length:
        return False
    return bool(_VALID[np.frombuffer(raw, dtype=np.uint8)].all())


def trytes_to_trits(trytes: str | bytes) -> TritArray:
    """Trits of ``trytes`` (3 per tryte). Raises ValueError naming the first bad character."""
    raw = trytes.encode("ascii", "replace") if isinstance(trytes, str) else bytes(trytes)
    codes = np.frombuffer(raw, dtype=np.uint8)
    valid = _VALID[codes]
    if not valid.all():
        position = int(np.argmin(valid))
        raise ValueError(f"not a tryte at position {position}: {chr(codes[position])!r}")
    return _TRITS_OF[_TRYTE_VALUES[codes].astype(np.int16) + 13].reshape(-1)


def trits_to_trytes(trits: npt.ArrayLike) -> str:
    """Trytes of ``trits``; the length must be a multiple of 3."""
    array = np.asarray(trits, dtype=np.int8)
    if array.size % 3:
        raise ValueError(f"trit count {array.size} is not a multiple of 3")
    groups = array.reshape(-1, 3).astype(np.int16)
    values = groups[:, 0] + 3 * groups[:, 1] + 9 * groups[:, 2]
    return _CHAR_OF[values + 13].tobytes().decode("ascii")


def int_from_trits(trits: npt.ArrayLike) -> int:
    """The balanced-ternary integer of little-endian ``trits``."""
    value = 0
    for trit in reversed(np.asarray(trits, dtype=np.int64).tolist()):
        value = value * 3 + trit
    return value


def int_to_trits(value: int, length: int) -> TritArray:
    """``length`` little-endian balanced trits of ``value``; ValueError if it does not fit."""
    out = np.zeros(length, dtype=np.int8)
    rest = value
    for k in range(length):
        r = ((rest + 1) % 3) - 1
        out[k] = r
        rest = (rest - r) // 3
    if rest != 0:
        raise ValueError(f"{value} does not fit in {length} trits")
    return out
