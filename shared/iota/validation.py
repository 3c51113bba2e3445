"""Seed, address and tag validation for IOTA (legacy, Kerl addresses with 9-tryte checksums).

Every error message says what is wrong without repeating a seed: seeds are
secrets and error messages end up in logs and HTTP replies. Addresses are
public, so their errors may quote them (shortened).
"""

from __future__ import annotations

from iota.crypto.kerl import Kerl

from shared.iota.trinary import TRYTE_ALPHABET, is_trytes, trits_to_trytes, trytes_to_trits

__all__ = [
    "ADDRESS_LENGTH",
    "ADDRESS_WITH_CHECKSUM_LENGTH",
    "CHECKSUM_LENGTH",
    "SEED_LENGTH",
    "TAG_LENGTH",
    "InvalidAddress",
    "InvalidSeed",
    "InvalidTrytes",
    "address_checksum",
    "is_address",
    "is_seed",
    "validate_address",
    "validate_seed",
    "validate_trytes",
    "with_checksum",
]

SEED_LENGTH = 81
ADDRESS_LENGTH = 81
CHECKSUM_LENGTH = 9
ADDRESS_WITH_CHECKSUM_LENGTH = ADDRESS_LENGTH + CHECKSUM_LENGTH
TAG_LENGTH = 27

_ALPHABET = frozenset(TRYTE_ALPHABET)


class InvalidTrytes(ValueError):
    """A value that should be trytes is not (wrong type, length or characters)."""


class InvalidSeed(InvalidTrytes):
    """A seed that is not 81 trytes. The message never contains the seed."""


class InvalidAddress(InvalidTrytes):
    """An address that is not 81 trytes, or 90 trytes with a valid checksum."""


def _first_bad_character(text: str) -> int | None:
    for position, char in enumerate(text):
        if char not in _ALPHABET:
            return position
    return None


def _short(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:20]}..."


def validate_trytes(value: object, what: str, *, max_length: int | None = None) -> str:
    """``value`` as a tryte string; InvalidTrytes naming ``what`` otherwise."""
    if not isinstance(value, str):
        raise InvalidTrytes(f"{what} must be a string of trytes, got {type(value).__name__}")
    bad = _first_bad_character(value)
    if bad is not None:
        raise InvalidTrytes(
            f"{what} may only contain the trytes 9 and A-Z; character {bad} is {value[bad]!r}"
        )
    if max_length is not None and len(value) > max_length:
        raise InvalidTrytes(f"{what} is {len(value)} trytes, at most {max_length} allowed")
    return value


def validate_seed(seed: object) -> str:
    """Return ``seed`` if it is exactly 81 trytes, else raise InvalidSeed (seed not echoed)."""
    if not isinstance(seed, str):
        raise InvalidSeed(f"seed must be a string of 81 trytes, got {type(seed).__name__}")
    if len(seed) != SEED_LENGTH:
        raise InvalidSeed(f"seed must be exactly {SEED_LENGTH} trytes, got {len(seed)} characters")
    bad = _first_bad_character(seed)
    if bad is not None:
        # The position helps the user find a typo; the character itself is part of the secret.
        raise InvalidSeed(f"seed may only contain the trytes 9 and A-Z; character {bad} is not one")
    return seed


def is_seed(seed: object) -> bool:
    """True when ``seed`` is exactly 81 trytes."""
    return isinstance(seed, str) and len(seed) == SEED_LENGTH and is_trytes(seed)


def address_checksum(address: str) -> str:
    """The 9-tryte checksum of an 81-tryte address: the last 9 trytes of its Kerl hash."""
    if len(address) != ADDRESS_LENGTH or not is_trytes(address):
        raise InvalidAddress(f"a checksum needs an 81-tryte address, got {len(address)} characters")
    sponge = Kerl()
    sponge.absorb(trytes_to_trits(address).tolist())
    digest: list[int] = [0] * 243
    sponge.squeeze(digest)
    return trits_to_trytes(digest)[-CHECKSUM_LENGTH:]


def with_checksum(address: str) -> str:
    """The 90-tryte form (address + checksum) of a valid 81- or 90-tryte address."""
    plain = validate_address(address)
    return plain + address_checksum(plain)


def validate_address(address: object, *, for_value: bool = False) -> str:
    """Return the 81-tryte form of ``address``; raise InvalidAddress naming the problem.

    A 90-tryte address must end in its correct checksum. With ``for_value`` the
    address must also be able to receive value: IRI refuses a non-zero value to
    an address whose last trit is not 0 (only Kerl addresses satisfy that).
    """
    if not isinstance(address, str):
        raise InvalidAddress(f"address must be a string of trytes, got {type(address).__name__}")
    if len(address) not in (ADDRESS_LENGTH, ADDRESS_WITH_CHECKSUM_LENGTH):
        raise InvalidAddress(
            f"address must be 81 trytes (or 90 with checksum), got {len(address)} characters"
        )
    bad = _first_bad_character(address)
    if bad is not None:
        raise InvalidAddress(
            f"address may only contain the trytes 9 and A-Z; character {bad} is {address[bad]!r}"
        )
    plain = address[:ADDRESS_LENGTH]
    if len(address) == ADDRESS_WITH_CHECKSUM_LENGTH:
        expected = address_checksum(plain)
        if address[ADDRESS_LENGTH:] != expected:
            raise InvalidAddress(f"address checksum does not match for {_short(address)}")
    if for_value and trytes_to_trits(plain[-1])[-1] != 0:
        raise InvalidAddress(
            f"address {_short(plain)} cannot receive value: its last trit is not 0"
        )
    return plain


def is_address(address: object) -> bool:
    """True when ``address`` is 81 trytes, or 90 trytes with a valid checksum."""
    try:
        validate_address(address)
    except InvalidAddress:
        return False
    return True
