"""The masking duplex of MAM v0: a Curl-P-27 sponge that encrypts as it absorbs.

Each 243-trit chunk of plaintext is added (trit-wise, mod 3) to the rate the sponge had
before absorbing that chunk; the reader subtracts the same rate and absorbs the
plaintext it recovers, so both sides walk through identical sponge states.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from shared.iota.curl import HASH_LENGTH, Curl, curl_hash

__all__ = ["mask", "mask_hash", "new_sponge", "trit_add", "unmask"]


def new_sponge() -> Curl:
    return Curl(27)


def trit_add(left: npt.NDArray[np.int8], right: npt.NDArray[np.int8]) -> npt.NDArray[np.int8]:
    """Balanced trit-wise sum modulo 3."""
    total = left.astype(np.int8) + right.astype(np.int8)
    total[total == 2] = -1
    total[total == -2] = 1
    return total


def mask(plain: npt.NDArray[np.int8], sponge: Curl) -> npt.NDArray[np.int8]:
    """Encrypt ``plain``, absorbing it into ``sponge``."""
    out = np.empty_like(plain, dtype=np.int8)
    key = sponge.state[:HASH_LENGTH].copy()
    for offset in range(0, plain.shape[0], HASH_LENGTH):
        chunk = plain[offset : offset + HASH_LENGTH]
        sponge.absorb(chunk)
        out[offset : offset + chunk.shape[0]] = trit_add(chunk, key[: chunk.shape[0]])
        key = sponge.state[:HASH_LENGTH].copy()
    return out


def unmask(cipher: npt.NDArray[np.int8], sponge: Curl) -> npt.NDArray[np.int8]:
    """Decrypt ``cipher``, absorbing the recovered plaintext into ``sponge``."""
    out = np.empty_like(cipher, dtype=np.int8)
    for offset in range(0, cipher.shape[0], HASH_LENGTH):
        chunk = cipher[offset : offset + HASH_LENGTH]
        plain = trit_add(chunk, -sponge.state[: chunk.shape[0]])
        out[offset : offset + chunk.shape[0]] = plain
        sponge.absorb(plain)
    return out


def mask_hash(trits: npt.NDArray[np.int8]) -> npt.NDArray[np.int8]:
    """Curl-P-81 of a root: the address of a private or restricted channel message."""
    return curl_hash(trits, 81)
