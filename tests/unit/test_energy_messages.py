"""Seed-001 MAM commands: written to the character, read with the documented variants."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.energy.messages import (
    Goodbye,
    Hello,
    MessageError,
    Output,
    PaymentRequest,
    ProducerOutput,
    Usage,
    decode,
    decode_trytes,
    encode_trytes,
)
from shared.mam.codec import json_to_trytes, trytes_to_ascii

ADDRESS = "W" * 81


def text(message: object) -> str:
    return trytes_to_ascii(encode_trytes(message))  # type: ignore[arg-type]


def test_written_exactly_as_the_seed() -> None:
    assert text(Hello()) == '{"command":"hello"}'
    assert text(Goodbye()) == '{"command":"goodbye"}'
    assert (
        text(Output(1542267468229, 1542267469229, 1.234))
        == '{"command":"output","startTime":1542267468229,"endTime":1542267469229,"output":1.234}'
    )
    assert text(ProducerOutput(1, 2, 1.234, 56789, "P" * 81)) == (
        '{"command":"output","startTime":1,"endTime":2,"output":1.234,'
        f'"producerPrice":56789,"paymentIdOrAddress":"{"P" * 81}"}}'
    )
    assert text(Usage(1, 2, 0.5)) == '{"command":"usage","startTime":1,"endTime":2,"usage":0.5}'
    assert text(PaymentRequest(345, 123, ADDRESS)) == (
        f'{{"command":"payment-request","owed":345,"usage":123,"paymentIdOrAddress":"{ADDRESS}"}}'
    )


def test_seed_examples_read_back() -> None:
    assert decode({"command": "hello"}) == Hello()
    assert decode({"command": "goodbye"}) == Goodbye()
    assert decode(
        {"command": "output", "startTime": 1542267468229, "endTime": 1542267469229, "output": 1.234}
    ) == Output(1542267468229, 1542267469229, 1.234)
    producer = {
        "command": "output",
        "startTime": 1542267468229,
        "endTime": 1542267469229,
        "output": 1.234,
        "producerPrice": 56789,
        "paymentIdOrAddress": "PPPPPP...QQQQQQ",
    }
    assert decode(producer) == ProducerOutput(
        1542267468229, 1542267469229, 1.234, 56789, "PPPPPP...QQQQQQ"
    )
    # the seed's consumer payload has no "command"
    assert decode({"startTime": 1542267468229, "endTime": 1542267469229, "usage": 1.234}) == Usage(
        1542267468229, 1542267469229, 1.234
    )
    assert decode(
        {"command": "payment-request", "owed": 345, "usage": 123, "paymentIdOrAddress": "W"}
    ) == PaymentRequest(345, 123.0, "W")
    # extra fields are ignored; integer kWh are fine
    assert decode({"command": "usage", "startTime": 1, "endTime": 2, "usage": 3, "x": 1}) == Usage(
        1, 2, 3.0
    )
    # trailing NUL padding of a transaction message is dropped
    assert decode_trytes(json_to_trytes({"command": "hello"}) + "9999") == Hello()


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ([], "JSON object"),
        ({}, "no 'command'"),
        ({"command": "dance"}, "unknown command"),
        ({"command": "output", "startTime": 2, "endTime": 1, "output": 1}, "after"),
        ({"command": "output", "startTime": 1, "endTime": 2, "output": -1}, "kWh"),
        ({"command": "output", "startTime": 1, "endTime": 2, "output": float("nan")}, "kWh"),
        ({"command": "output", "startTime": 1, "endTime": 2, "output": True}, "number"),
        ({"command": "usage", "startTime": "1", "endTime": 2, "usage": 1}, "startTime"),
        ({"command": "usage", "startTime": 1.5, "endTime": 2, "usage": 1}, "whole"),
        (
            {"command": "payment-request", "owed": 1.5, "usage": 1, "paymentIdOrAddress": "A"},
            "owed",
        ),
        (
            {"command": "payment-request", "owed": 1, "usage": 1, "paymentIdOrAddress": ""},
            "payment",
        ),
        (
            {"command": "output", "startTime": 1, "endTime": 2, "output": 1, "producerPrice": 5},
            "paymentIdOrAddress",
        ),
    ],
)
def test_bad_messages_say_what_is_wrong(body: object, why: str) -> None:
    with pytest.raises(MessageError, match=why):
        decode(body)


def test_non_json_trytes_are_a_message_error() -> None:
    with pytest.raises(MessageError):
        decode_trytes("ABC")
    with pytest.raises(MessageError):
        decode_trytes(json_to_trytes("x")[:-2] + "ZZ")


times = st.integers(0, 2**52)
kwh = st.floats(0, 1e9, allow_nan=False)


@given(times, st.integers(1, 10**6), kwh)
def test_usage_and_output_round_trip(start: int, length: int, value: float) -> None:
    for message in (Usage(start, start + length, value), Output(start, start + length, value)):
        assert decode_trytes(encode_trytes(message)) == message
        assert json.loads(trytes_to_ascii(encode_trytes(message)))["command"] in ("usage", "output")


@given(st.integers(0, 2**40), kwh, st.text("9ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=90))
def test_payment_request_round_trip(owed: int, usage: float, address: str) -> None:
    message = PaymentRequest(owed, usage, address)
    assert decode_trytes(encode_trytes(message)) == message


@given(st.binary(max_size=200))
def test_any_bytes_decode_or_raise_message_error(data: bytes) -> None:
    trytes = "".join("9ABCDEFGHIJKLMNOPQRSTUVWXYZ"[b % 27] for b in data)
    with contextlib.suppress(MessageError):
        decode_trytes(trytes)
