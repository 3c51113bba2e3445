"""Kerl (Keccak-384 over trits) as IRI and PyOTA compute it, with fast trit<->byte conversion.

Kerl hashes 243-trit blocks: the last trit of each block is forced to 0, the
remaining 242 balanced trits are read as a signed integer and fed to
Keccak-384 as 48 big-endian two's-complement bytes; a squeeze turns the 48-byte
digest back into 243 trits (the last one zeroed) and re-seeds the sponge with
the digest's bitwise complement. PyOTA does the integer conversion in pure
Python (about a millisecond a block); WOTS signatures need hundreds of blocks,
so the conversion is compiled with numba and works on 32-bit limbs (kernels in
``shared._native.kerl_source``, loaded JIT or AOT through ``shared._native``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from sha3 import keccak_384

from shared._native import kernels as _kernels

__all__ = [
    "BYTE_HASH_LENGTH",
    "TRIT_HASH_LENGTH",
    "Kerl",
    "bytes_to_trits",
    "kerl_hash",
    "kerl_hash_chain",
    "trits_to_bytes",
]

BYTE_HASH_LENGTH = 48
TRIT_HASH_LENGTH = 243
_WORDS = 13  # 13 x 32 bits covers 3^243 (about 2^385.2) with room for carries
_MASK = (1 << 32) - 1


def _words_of(value: int) -> npt.NDArray[np.uint64]:
    return np.array([(value >> (32 * i)) & _MASK for i in range(_WORDS)], dtype=np.uint64)


# (3^242 - 1) / 2 shifts 242 balanced trits to unsigned digits; (3^243 - 1) / 2
# does the same for the 243 trits a digest is expanded to.
_HALF_242 = _words_of((3**242 - 1) // 2)
_HALF_243 = _words_of((3**243 - 1) // 2)


_to_bytes = _kernels.kerl_to_bytes
_to_trits = _kernels.kerl_to_trits


def trits_to_bytes(trits: npt.ArrayLike) -> bytes:
    """The 48 bytes Kerl feeds Keccak for one 243-trit block (the last trit is ignored)."""
    data = np.ascontiguousarray(trits, dtype=np.int8)
    if data.shape != (TRIT_HASH_LENGTH,):
        raise ValueError(f"need {TRIT_HASH_LENGTH} trits, got {data.shape}")
    out = np.empty(BYTE_HASH_LENGTH, dtype=np.uint8)
    _to_bytes(data, _HALF_242, out)
    return out.tobytes()


def bytes_to_trits(data: bytes) -> npt.NDArray[np.int8]:
    """The 243 trits (last one 0) Kerl squeezes out of a 48-byte Keccak digest."""
    if len(data) != BYTE_HASH_LENGTH:
        raise ValueError(f"need {BYTE_HASH_LENGTH} bytes, got {len(data)}")
    out = np.empty(TRIT_HASH_LENGTH, dtype=np.int8)
    _to_trits(np.frombuffer(data, dtype=np.uint8), _HALF_243, out)
    return out


_FLIP = bytes(range(255, -1, -1))  # b -> ~b & 0xFF as a bytes.translate table


class Kerl:
    """A Kerl sponge: ``absorb`` multiples of 243 trits, ``squeeze`` 243 trits at a time."""

    def __init__(self) -> None:
        self._keccak = keccak_384()

    def reset(self) -> None:
        self._keccak = keccak_384()

    def absorb(self, trits: npt.ArrayLike) -> None:
        data = np.ascontiguousarray(trits, dtype=np.int8)
        if data.ndim != 1 or data.shape[0] == 0 or data.shape[0] % TRIT_HASH_LENGTH:
            raise ValueError("Kerl absorbs a non-empty multiple of 243 trits")
        out = np.empty(BYTE_HASH_LENGTH, dtype=np.uint8)
        for offset in range(0, data.shape[0], TRIT_HASH_LENGTH):
            _to_bytes(data[offset : offset + TRIT_HASH_LENGTH], _HALF_242, out)
            self._keccak.update(out.tobytes())

    def squeeze(self, length: int = TRIT_HASH_LENGTH) -> npt.NDArray[np.int8]:
        if length <= 0 or length % TRIT_HASH_LENGTH:
            raise ValueError("Kerl squeezes a positive multiple of 243 trits")
        result = np.empty(length, dtype=np.int8)
        for offset in range(0, length, TRIT_HASH_LENGTH):
            digest = self._keccak.digest()
            _to_trits(
                np.frombuffer(digest, dtype=np.uint8),
                _HALF_243,
                result[offset : offset + TRIT_HASH_LENGTH],
            )
            self._keccak = keccak_384()
            self._keccak.update(digest.translate(_FLIP))
        return result


def kerl_hash(trits: npt.ArrayLike, length: int = TRIT_HASH_LENGTH) -> npt.NDArray[np.int8]:
    """Absorb ``trits`` into a fresh Kerl and squeeze ``length`` trits."""
    sponge = Kerl()
    sponge.absorb(trits)
    return sponge.squeeze(length)


def kerl_hash_chain(block: npt.ArrayLike, times: int) -> npt.NDArray[np.int8]:
    """Hash one 243-trit block ``times`` times in a row (the WOTS chain step)."""
    current = np.array(block, dtype=np.int8)
    if current.shape != (TRIT_HASH_LENGTH,):
        # the kernels do not bounds-check
        raise ValueError(f"need {TRIT_HASH_LENGTH} trits, got {current.shape}")
    raw = np.empty(BYTE_HASH_LENGTH, dtype=np.uint8)
    for _ in range(times):
        _to_bytes(current, _HALF_242, raw)
        digest = keccak_384(raw.tobytes()).digest()
        _to_trits(np.frombuffer(digest, dtype=np.uint8), _HALF_243, current)
    return current
