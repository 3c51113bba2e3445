"""The seed-001 MAM commands and their JSON / tryte codecs.

Writing gives the seed's bodies exactly (key order as the seed lists them, compact JSON,
``asciiToTrytes(JSON.stringify(obj))``)::

    {"command":"hello"}
    {"command":"goodbye"}
    {"command":"output","startTime":1542267468229,"endTime":1542267469229,"output":1.234}
    {"command":"output","startTime":..,"endTime":..,"output":..,"producerPrice":56789,
     "paymentIdOrAddress":"PPP..."}
    {"command":"usage","startTime":..,"endTime":..,"usage":1.234}
    {"command":"payment-request","owed":345,"usage":123,"paymentIdOrAddress":"WWW..."}

Reading accepts the documented variants: a usage message without ``command`` (the
seed's consumer payload), extra fields (ignored), integers where numbers are floats.
Anything else raises :class:`MessageError` naming what is wrong.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from shared.mam.codec import json_from_trytes, json_to_trytes
from shared.mam.errors import MamPayloadError

__all__ = [
    "MAX_ID_LENGTH",
    "EnergyMessage",
    "Goodbye",
    "Hello",
    "MessageError",
    "Output",
    "PaymentRequest",
    "ProducerOutput",
    "Usage",
    "decode",
    "decode_trytes",
    "encode",
    "encode_trytes",
]

# paymentIdOrAddress is an address (81/90 trytes) or a reference id: bounded either way.
MAX_ID_LENGTH = 256
# A kWh figure beyond this is a bug or an attack, not a household or a wind farm slice.
MAX_KWH = 1e12


class MessageError(ValueError):
    """A MAM message that is not one of the seed's commands; the text says why."""


@dataclass(frozen=True, slots=True)
class Hello:
    """First message of every channel: the reader checks it is on the right one."""

    def to_json(self) -> dict[str, Any]:
        return {"command": "hello"}


@dataclass(frozen=True, slots=True)
class Goodbye:
    """Last message of a channel: readers stop following it."""

    def to_json(self) -> dict[str, Any]:
        return {"command": "goodbye"}


@dataclass(frozen=True, slots=True)
class Output:
    """A source's output over one slice (kWh), times in Unix epoch ms."""

    start_time: int
    end_time: int
    output: float

    def to_json(self) -> dict[str, Any]:
        return _slice_json("output", self) | {"output": self.output}


@dataclass(frozen=True, slots=True)
class ProducerOutput:
    """A producer's aggregated output, its asking price (tokens per kWh) and where to pay."""

    start_time: int
    end_time: int
    output: float
    producer_price: float
    payment_id_or_address: str

    def to_json(self) -> dict[str, Any]:
        return _slice_json("output", self) | {
            "output": self.output,
            "producerPrice": self.producer_price,
            "paymentIdOrAddress": self.payment_id_or_address,
        }


@dataclass(frozen=True, slots=True)
class Usage:
    """A consumer's usage over one slice (kWh)."""

    start_time: int
    end_time: int
    usage: float

    def to_json(self) -> dict[str, Any]:
        return _slice_json("usage", self) | {"usage": self.usage}


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    """The grid to a consumer: ``owed`` tokens in all (pending payments excluded) and the
    ``usage`` kWh this request adds, payable to ``payment_id_or_address``."""

    owed: int
    usage: float
    payment_id_or_address: str

    def to_json(self) -> dict[str, Any]:
        return {
            "command": "payment-request",
            "owed": self.owed,
            "usage": self.usage,
            "paymentIdOrAddress": self.payment_id_or_address,
        }


def _slice_json(command: str, message: Output | ProducerOutput | Usage) -> dict[str, Any]:
    """The first keys of every message about a slice, in the seed's order (the rest follow)."""
    return {"command": command, "startTime": message.start_time, "endTime": message.end_time}


EnergyMessage = Hello | Goodbye | Output | ProducerOutput | Usage | PaymentRequest


def encode(message: EnergyMessage) -> dict[str, Any]:
    """The JSON object of ``message``, keys in the seed's order."""
    return message.to_json()


def encode_trytes(message: EnergyMessage) -> str:
    """``asciiToTrytes(JSON.stringify(message))``: the MAM message trytes."""
    return json_to_trytes(message.to_json())


def _number(body: dict[str, Any], key: str, unit: str) -> int | float:
    """``body[key]`` if it is a JSON number (not a boolean, which Python counts as an int)."""
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MessageError(f"'{key}' must be a number ({unit}), got {type(value).__name__}")
    return value


def _time(body: dict[str, Any], key: str) -> int:
    value = _number(body, key, "Unix epoch ms")
    if not math.isfinite(value) or value != int(value) or not 0 <= value < 2**53:
        raise MessageError(f"'{key}' must be a whole number of ms since 1970")
    return int(value)


def _kwh(body: dict[str, Any], key: str) -> float:
    value = _number(body, key, "kWh")
    if not math.isfinite(value) or not 0 <= value <= MAX_KWH:
        raise MessageError(f"'{key}' must be a finite number of kWh in 0..{MAX_KWH:g}")
    return float(value)


def _span(body: dict[str, Any]) -> tuple[int, int]:
    start, end = _time(body, "startTime"), _time(body, "endTime")
    if end <= start:
        raise MessageError("'endTime' must be after 'startTime'")
    return start, end


def _payment_id(body: dict[str, Any]) -> str:
    value = body.get("paymentIdOrAddress")
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH:
        raise MessageError(
            f"'paymentIdOrAddress' must be a non-empty string of at most {MAX_ID_LENGTH} characters"
        )
    return value


def decode(body: Any) -> EnergyMessage:
    """The command in a JSON value read from a channel; MessageError if it is none."""
    if not isinstance(body, dict):
        raise MessageError(f"a message must be a JSON object, got {type(body).__name__}")
    command = body.get("command")
    if command is None and "usage" in body and "startTime" in body:
        command = "usage"  # the seed's consumer payload has no "command"
    if command == "hello":
        return Hello()
    if command == "goodbye":
        return Goodbye()
    if command == "output":
        start, end = _span(body)
        output = _kwh(body, "output")
        if "producerPrice" in body or "paymentIdOrAddress" in body:
            price = _number(body, "producerPrice", "tokens per kWh")
            if not math.isfinite(price) or not 0 <= price <= 2**53:
                raise MessageError("'producerPrice' must be a finite number >= 0")
            return ProducerOutput(start, end, output, price, _payment_id(body))
        return Output(start, end, output)
    if command == "usage":
        start, end = _span(body)
        return Usage(start, end, _kwh(body, "usage"))
    if command == "payment-request":
        owed = body.get("owed")
        if isinstance(owed, bool) or not isinstance(owed, int) or owed < 0:
            raise MessageError("'owed' must be a whole number of tokens >= 0")
        return PaymentRequest(owed, _kwh(body, "usage"), _payment_id(body))
    if not isinstance(command, str):
        raise MessageError("the message has no 'command'")
    raise MessageError(f"unknown command {command[:40]!r}")


def decode_trytes(trytes: str) -> EnergyMessage:
    """The command in MAM message trytes; MessageError if not JSON or not a command."""
    try:
        body = json_from_trytes(trytes)
    except MamPayloadError as error:
        raise MessageError(str(error)) from None
    return decode(body)
