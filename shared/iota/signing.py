"""Winternitz one-time signatures over Kerl, as IRI/PyOTA use them: keys, addresses, sign, verify.

A private key for (seed, index, security) is ``security`` fragments of 27
hashes; a signature fragment hashes key chunk ``j`` (13 - n_j) times, where
``n`` is the normalized bundle hash; the verifier hashes each signature chunk
(13 + n_j) more times, which lands on the public digest, and the digests of all
fragments hash to the address. Compatible with PyOTA 2.1.0 (tests compare).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from shared.iota.kerl import Kerl, kerl_hash, kerl_hash_chain
from shared.iota.trinary import trits_to_trytes, trytes_to_trits

__all__ = [
    "FRAGMENT_TRYTES",
    "address_from_digests",
    "address_of",
    "digest_of_key_fragment",
    "digest_of_signature_fragment",
    "has_m_bug",
    "key_of",
    "normalize",
    "sign_fragment",
    "signature_address",
    "subseed",
]

FRAGMENT_TRYTES = 2187
_CHUNKS = 27
_CHUNK = 243
_TRYTE_VALUES = {c: (i if i <= 13 else i - 27) for i, c in enumerate("9ABCDEFGHIJKLMNOPQRSTUVWXYZ")}


def normalize(bundle_hash: str) -> list[list[int]]:
    """PyOTA's normalize(): three chunks of 27 tryte values, each shifted to sum to zero."""
    if len(bundle_hash) != 81:
        raise ValueError("a bundle hash is 81 trytes")
    values = [_TRYTE_VALUES[c] for c in bundle_hash]
    result = []
    for part in range(3):
        chunk = values[part * 27 : part * 27 + 27]
        total = sum(chunk)
        while total > 0:
            total -= 1
            for j in range(27):
                if chunk[j] > -13:
                    chunk[j] -= 1
                    break
        while total < 0:
            total += 1
            for j in range(27):
                if chunk[j] < 13:
                    chunk[j] += 1
                    break
        result.append(chunk)
    return result


def has_m_bug(bundle_hash: str) -> bool:
    """True when the normalized hash contains 13 ('M'): signing it leaks half a key chunk."""
    return any(13 in chunk for chunk in normalize(bundle_hash))


def _add_index(seed_trits: npt.NDArray[np.int8], index: int) -> npt.NDArray[np.int8]:
    # PyOTA's add_trits(seed, trits_from_int(index)): balanced-ternary addition,
    # carry beyond the last trit dropped.
    out = seed_trits.astype(np.int64)
    carry = index
    position = 0
    while carry and position < out.shape[0]:
        digit = ((carry + 1) % 3) - 1
        carry = (carry - digit) // 3
        total = int(out[position]) + digit
        if total > 1:
            total -= 3
            carry += 1
        elif total < -1:
            total += 3
            carry -= 1
        out[position] = total
        position += 1
    return out.astype(np.int8)


def subseed(seed: str, index: int) -> npt.NDArray[np.int8]:
    """The sponge input for key ``index``: Kerl(seed + index), as PyOTA's KeyIterator does."""
    if index < 0:
        raise ValueError("key index must be >= 0")
    padded = seed + "9" * (-len(seed) % 81)
    trits = trytes_to_trits(padded[:81])
    return kerl_hash(_add_index(trits, index))


def key_of(seed: str, index: int, security: int) -> npt.NDArray[np.int8]:
    """The private key: ``security`` * 27 * 243 trits."""
    if not 1 <= security <= 3:
        raise ValueError("security must be 1, 2 or 3")
    sponge = Kerl()
    sponge.absorb(subseed(seed, index))
    return sponge.squeeze(security * _CHUNKS * _CHUNK)


def digest_of_key_fragment(fragment: npt.NDArray[np.int8]) -> npt.NDArray[np.int8]:
    """Public digest of one 6561-trit key fragment (each chunk hashed 26 times)."""
    chain = np.concatenate(
        [kerl_hash_chain(fragment[j * _CHUNK : (j + 1) * _CHUNK], 26) for j in range(_CHUNKS)]
    )
    return kerl_hash(chain)


def address_from_digests(digests: npt.NDArray[np.int8]) -> str:
    """The 81-tryte address of concatenated fragment digests."""
    return trits_to_trytes(kerl_hash(digests))


def address_of(seed: str, index: int, security: int = 2) -> str:
    """The address (no checksum) for ``seed`` at key ``index`` with ``security`` fragments."""
    key = key_of(seed, index, security)
    size = _CHUNKS * _CHUNK
    digests = np.concatenate(
        [digest_of_key_fragment(key[f * size : (f + 1) * size]) for f in range(security)]
    )
    return address_from_digests(digests)


def sign_fragment(key: npt.NDArray[np.int8], fragment_index: int, bundle_hash: str) -> str:
    """Signature fragment ``fragment_index`` (2187 trytes) of ``bundle_hash`` with ``key``."""
    normalized = normalize(bundle_hash)[fragment_index % 3]
    size = _CHUNKS * _CHUNK
    fragment = key[fragment_index * size : (fragment_index + 1) * size]
    chunks = [
        kerl_hash_chain(fragment[j * _CHUNK : (j + 1) * _CHUNK], 13 - normalized[j])
        for j in range(_CHUNKS)
    ]
    return trits_to_trytes(np.concatenate(chunks))


def digest_of_signature_fragment(
    signature_fragment: str, normalized_chunk: Sequence[int]
) -> npt.NDArray[np.int8]:
    """What the signer's public digest must be if ``signature_fragment`` is genuine."""
    trits = trytes_to_trits(signature_fragment)
    chunks = [
        kerl_hash_chain(trits[j * _CHUNK : (j + 1) * _CHUNK], 13 + normalized_chunk[j])
        for j in range(_CHUNKS)
    ]
    return kerl_hash(np.concatenate(chunks))


def signature_address(signature_fragments: Sequence[str], bundle_hash: str) -> str:
    """The address these signature fragments of ``bundle_hash`` verify against."""
    normalized = normalize(bundle_hash)
    digests = np.concatenate(
        [
            digest_of_signature_fragment(fragment, normalized[i % 3])
            for i, fragment in enumerate(signature_fragments)
        ]
    )
    return address_from_digests(digests)
