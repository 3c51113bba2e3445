"""Property tests for the key=value payload codec and the firmware's own parser."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware.lockdevice import parse_payload
from shared.mqtt.codec import MAX_PAYLOAD_BYTES, MAX_VALUE_LENGTH, PayloadError, decode, encode

keys = st.from_regex(r"[A-Za-z0-9_.-]{1,32}", fullmatch=True)
values = st.text(
    alphabet=st.characters(blacklist_characters="\n\r", blacklist_categories=["Cs"]),
    max_size=40,
)
fields = st.dictionaries(keys, values, max_size=8)


@given(fields)
def test_round_trip(data: dict[str, str]) -> None:
    assert decode(encode(data)) == data
    assert decode(encode(data).encode("utf-8")) == data


@given(fields)
def test_firmware_parser_reads_what_the_codec_writes(data: dict[str, str]) -> None:
    assert parse_payload(encode(data).encode("utf-8")) == (data, None)


@given(st.binary(max_size=300) | st.text(max_size=300).map(lambda t: t.encode("utf-8", "replace")))
def test_firmware_and_codec_agree_on_any_input(raw: bytes) -> None:
    try:
        expected: dict[str, str] | None = decode(raw)
    except PayloadError:
        expected = None
    parsed, error = parse_payload(raw)
    assert parsed == expected
    assert (error is None) == (expected is not None)


def test_seed_example_and_value_to_end_of_line() -> None:
    assert decode(b"keyA=valueA\nkeyB=valueB") == {"keyA": "valueA", "keyB": "valueB"}
    # The key stops at the first "="; the value keeps any further "=".
    assert decode("request=a=b=c\ncommand=unlock\n") == {"request": "a=b=c", "command": "unlock"}
    assert decode("message=Unknown lock id: 14") == {"message": "Unknown lock id: 14"}
    assert decode("") == {}


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"no-equals", "expected key=value"),
        (b"=value", "empty key"),
        (b"bad key=1", "invalid key"),
        (b"a=1\na=2", "duplicate key"),
        (b"a=1\r\nb=2", "carriage return"),
        (b"\xff\xfe", "not UTF-8"),
        (b"k" * 33 + b"=1", "key too long"),
        (b"request=" + b"x" * (MAX_VALUE_LENGTH + 1), "too long value for request"),
        (b"a=" + b"x" * MAX_PAYLOAD_BYTES, "payload too long"),
    ],
)
def test_malformed_payloads_are_refused_with_a_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        decode(payload)
    parsed, error = parse_payload(payload)
    assert parsed is None and error


@pytest.mark.parametrize(
    "data",
    [{"a": "x\ny"}, {"a": "x\r"}, {"bad key": "1"}, {"": "1"}, {"a=b": "1"}, {"a": "x" * 300}],
)
def test_encode_refuses_what_decode_could_not_read_back(data: dict[str, str]) -> None:
    with pytest.raises(PayloadError):
        encode(data)
