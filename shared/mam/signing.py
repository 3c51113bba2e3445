"""Winternitz one-time signatures over Curl-P-27 (ISS-P27), as MAM v0 uses them.

A leaf of a channel's Merkle tree is the key pair at one subseed index: the private key
is ``security * 27`` fragments of 243 trits, the public digest of a fragment is that
fragment hashed 26 more times, and the leaf address hashes the digest of all fragments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from shared.iota.curl import HASH_LENGTH, curl_hash
from shared.iota.trinary import int_from_trits, int_to_trits
from shared.mam._kernels import hash_chains

__all__ = [
    "FRAGMENT_LENGTH",
    "Leaf",
    "checksum_security",
    "digest_from_signature",
    "leaf",
    "leaf_from_digest",
    "sign",
    "subseed",
]

FRAGMENTS_PER_LEVEL = 27
FRAGMENT_LENGTH = FRAGMENTS_PER_LEVEL * HASH_LENGTH
_ROUNDS = 27
_SEED_MODULUS = 3**HASH_LENGTH
_SEED_HALF = (_SEED_MODULUS - 1) // 2


@dataclass(frozen=True, slots=True)
class Leaf:
    """One Merkle leaf: its address and the private key that signs for it."""

    address: npt.NDArray[np.int8]
    key: npt.NDArray[np.int8]

    def __repr__(self) -> str:  # the key must never end up in a log line
        return "Leaf(address=..., key=<hidden>)"


def subseed(seed_trits: npt.NDArray[np.int8], index: int) -> npt.NDArray[np.int8]:
    """Curl-P-27 of the seed plus ``index`` (243 trits, wrapping like the reference's carry)."""
    value = int_from_trits(seed_trits) + index
    wrapped = (value + _SEED_HALF) % _SEED_MODULUS - _SEED_HALF
    return curl_hash(int_to_trits(wrapped, HASH_LENGTH), _ROUNDS)


def _tryte_values(trits: npt.NDArray[np.int8], count: int) -> npt.NDArray[np.int64]:
    groups = trits[: 3 * count].reshape(count, 3).astype(np.int64)
    return groups[:, 0] + 3 * groups[:, 1] + 9 * groups[:, 2]


def leaf(seed_trits: npt.NDArray[np.int8], index: int, security: int) -> Leaf:
    """The key pair at subseed ``index``."""
    fragments = security * FRAGMENTS_PER_LEVEL
    raw = curl_hash(subseed(seed_trits, index), _ROUNDS, fragments * HASH_LENGTH)
    key = hash_chains(raw.reshape(fragments, HASH_LENGTH), np.ones(fragments, dtype=np.int64))
    digests = hash_chains(key, np.full(fragments, 26, dtype=np.int64))
    digest = curl_hash(digests.reshape(-1), _ROUNDS)
    return Leaf(address=leaf_from_digest(digest), key=key.reshape(-1))


def leaf_from_digest(digest: npt.NDArray[np.int8]) -> npt.NDArray[np.int8]:
    """The leaf address of a key digest."""
    return curl_hash(digest, _ROUNDS)


def sign(hmac: npt.NDArray[np.int8], key: npt.NDArray[np.int8]) -> npt.NDArray[np.int8]:
    """Sign the first ``fragments`` trytes of ``hmac`` with a private key."""
    fragments = key.shape[0] // HASH_LENGTH
    counts = 13 - _tryte_values(hmac, fragments)
    return hash_chains(key.reshape(fragments, HASH_LENGTH), counts).reshape(-1)


def digest_from_signature(
    hmac: npt.NDArray[np.int8], signature: npt.NDArray[np.int8]
) -> npt.NDArray[np.int8]:
    """The key digest a signature of ``hmac`` implies (equal to the signer's if genuine)."""
    fragments = signature.shape[0] // HASH_LENGTH
    counts = _tryte_values(hmac, fragments) + 13
    chained = hash_chains(
        signature[: fragments * HASH_LENGTH].reshape(fragments, HASH_LENGTH), counts
    )
    return curl_hash(chained.reshape(-1), _ROUNDS)


def checksum_security(hmac: npt.NDArray[np.int8]) -> int:
    """The security level a nonce was searched for: the first 81-trit prefix summing to 0.

    0 means none does, so the payload was not produced by an honest writer with this key.
    """
    third = HASH_LENGTH // 3
    for level in (1, 2, 3):
        if int(hmac[: level * third].astype(np.int64).sum()) == 0:
            return level
    return 0
