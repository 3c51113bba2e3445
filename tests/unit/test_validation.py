"""Seed/address validation and text<->trytes, checked against PyOTA as the reference."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from iota import Address, TryteString

from shared.iota.text import (
    TrytesDecodeError,
    ascii_to_trytes,
    bytes_to_trytes,
    tag_trytes,
    text_to_trytes,
    trytes_to_ascii,
    trytes_to_bytes,
    trytes_to_text,
)
from shared.iota.trinary import TRYTE_ALPHABET, trytes_to_trits
from shared.iota.validation import (
    InvalidAddress,
    InvalidSeed,
    address_checksum,
    is_address,
    is_seed,
    validate_address,
    validate_seed,
    with_checksum,
)

trytes = st.text(alphabet=TRYTE_ALPHABET, min_size=81, max_size=81)

# From PROTOCOLS.md section 2: seed "A"*81, index 0, security 2.
KNOWN_ADDRESS = "XUERGHWTYRTFUYKFKXURKHMFEVLOIFTTCNTXOGLDPCZ9CJLKHROOPGNAQYFJEPGK9OKUQROUECBAVNXRX"


@settings(max_examples=40, deadline=None)
@given(trytes)
def test_checksum_matches_pyota(address: str) -> None:
    expected = str(Address(address).with_valid_checksum())
    assert with_checksum(address) == expected
    assert address_checksum(address) == expected[81:]
    assert validate_address(expected) == address
    assert is_address(expected)


@settings(max_examples=40, deadline=None)
@given(trytes, st.integers(min_value=81, max_value=89), st.sampled_from(TRYTE_ALPHABET))
def test_a_changed_checksum_is_refused(address: str, position: int, char: str) -> None:
    full = with_checksum(address)
    changed = full[:position] + char + full[position + 1 :]
    if changed == full:
        return
    # PyOTA agrees it is wrong ...
    assert not Address(changed).is_checksum_valid()
    # ... and we refuse it with a message saying so.
    with pytest.raises(InvalidAddress, match="checksum does not match"):
        validate_address(changed)


def test_known_address_checksum_round_trip() -> None:
    full = with_checksum(KNOWN_ADDRESS)
    assert len(full) == 90
    assert Address(full).is_checksum_valid()
    assert validate_address(full) == KNOWN_ADDRESS


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("A" * 80, "81 trytes"),
        ("A" * 91, "81 trytes"),
        ("a" * 81, "character 0"),
        ("A" * 80 + "!", "character 80"),
        (None, "string"),
        (b"A" * 81, "string"),
    ],
)
def test_bad_addresses_are_named(value: object, message: str) -> None:
    with pytest.raises(InvalidAddress, match=message):
        validate_address(value)
    assert not is_address(value)


def test_value_needs_last_trit_zero() -> None:
    # KNOWN_ADDRESS is a real Kerl address: its last trit is 0.
    assert trytes_to_trits(KNOWN_ADDRESS)[-1] == 0
    assert validate_address(KNOWN_ADDRESS, for_value=True) == KNOWN_ADDRESS
    not_kerl = KNOWN_ADDRESS[:80] + "A"  # A = trits (1, 0, 0)... last trit 0
    assert validate_address(not_kerl, for_value=True) == not_kerl
    bad = KNOWN_ADDRESS[:80] + "I"  # I = 9 = trits (0, 0, 1): last trit 1
    assert trytes_to_trits(bad)[-1] == 1
    validate_address(bad)  # fine for a zero-value transaction
    with pytest.raises(InvalidAddress, match="last trit"):
        validate_address(bad, for_value=True)


SECRET = "SECRETSEED" * 8 + "Q"


@pytest.mark.parametrize(
    ("seed", "message"),
    [
        (SECRET[:80], "exactly 81 trytes, got 80"),
        (SECRET + "A", "exactly 81 trytes, got 82"),
        (SECRET[:40] + "x" + SECRET[41:], "character 40 is not one"),
        (12345, "got int"),
    ],
)
def test_bad_seeds_never_echo_the_seed(seed: object, message: str) -> None:
    with pytest.raises(InvalidSeed, match=message) as info:
        validate_seed(seed)
    text = str(info.value)
    assert "SECRETSEED" not in text
    assert "x" not in text.replace("exactly", "")  # the bad character is not shown either
    assert not is_seed(seed)


@given(trytes)
def test_valid_seeds_pass(seed: str) -> None:
    assert validate_seed(seed) == seed
    assert is_seed(seed)


@given(st.text(max_size=200))
def test_text_encoding_matches_pyota(text: str) -> None:
    encoded = text_to_trytes(text)
    assert encoded == str(TryteString.from_unicode(text))
    stripped = text.rstrip("\x00")
    assert trytes_to_text(encoded) == stripped
    if encoded:
        assert trytes_to_text(encoded) == TryteString(encoded).decode()


@given(st.binary(max_size=200))
def test_bytes_round_trip_with_padding(data: bytes) -> None:
    encoded = bytes_to_trytes(data)
    padded = encoded + "9" * 30
    assert trytes_to_bytes(padded) == data.rstrip(b"\x00")
    assert trytes_to_bytes(encoded, strip_padding=False) == data


def test_ascii_helpers() -> None:
    assert ascii_to_trytes("Hello") == "RBTC9D9DCD"
    assert trytes_to_ascii("RBTC9D9DCD999") == "Hello"
    with pytest.raises(ValueError, match="character 1"):
        ascii_to_trytes("hé")
    with pytest.raises(TrytesDecodeError, match="not ASCII"):
        trytes_to_ascii(text_to_trytes("é"))
    with pytest.raises(TrytesDecodeError, match="do not encode a byte"):
        trytes_to_bytes("ZZ")
    with pytest.raises(TrytesDecodeError, match="odd"):
        trytes_to_bytes("ABC", strip_padding=False)
    with pytest.raises(ValueError, match="character 0"):
        trytes_to_bytes("ab")


def test_tags() -> None:
    assert tag_trytes("AKITA9MACHINE") == "AKITA9MACHINE" + "9" * 14
    assert tag_trytes("") == "9" * 27
    assert tag_trytes("order 42") == ascii_to_trytes("order 42").ljust(27, "9")
    with pytest.raises(ValueError, match="at most 27"):
        tag_trytes("A" * 28)
    with pytest.raises(ValueError, match="at most 27"):
        tag_trytes("lower case tag!")
