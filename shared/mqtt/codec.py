"""The Machine Access Protocol payload codec: newline separated ``key=value`` lines (seed 004).

The key runs to the first "=", the value to the end of the line. Decoding is strict so that a
device or controller never acts on a payload it only half understood: every malformed payload
raises :class:`PayloadError` with a reason a human can read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = [
    "MAX_KEY_LENGTH",
    "MAX_PAYLOAD_BYTES",
    "MAX_VALUE_LENGTH",
    "PayloadError",
    "decode",
    "encode",
]

#: A whole payload larger than this is refused before it is parsed.
MAX_PAYLOAD_BYTES = 1024
#: Keys are short protocol words (command, request, state, message, level).
MAX_KEY_LENGTH = 32
#: The seed says a request id "shouldn't be too long"; this is the line we draw.
MAX_VALUE_LENGTH = 256

# Keys are protocol identifiers; refusing anything else catches garbage early.
_KEY = re.compile(r"[A-Za-z0-9_.-]+")


class PayloadError(ValueError):
    """A payload that is not valid ``key=value`` text."""


def decode(
    payload: bytes | str,
    *,
    max_bytes: int = MAX_PAYLOAD_BYTES,
    max_value_length: int = MAX_VALUE_LENGTH,
) -> dict[str, str]:
    """Parse a payload into a dict; raise PayloadError naming what is wrong.

    Empty lines are skipped (a trailing newline is common); a line without "=",
    an empty or invalid key, a repeated key or an over-long value is an error.
    """
    raw = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
    if len(raw) > max_bytes:
        raise PayloadError(f"payload too long: {len(raw)} bytes (limit {max_bytes})")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError("payload is not UTF-8 text") from None
    result: dict[str, str] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if line == "":
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise PayloadError(f"line {number}: expected key=value")
        if not key:
            raise PayloadError(f"line {number}: empty key")
        if len(key) > MAX_KEY_LENGTH:
            raise PayloadError(f"line {number}: key too long (limit {MAX_KEY_LENGTH})")
        if not _KEY.fullmatch(key):
            raise PayloadError(f"line {number}: invalid key {key!r}")
        if len(value) > max_value_length:
            raise PayloadError(f"too long value for {key} (limit {max_value_length})")
        if "\r" in value:
            raise PayloadError(f"line {number}: carriage return in value")
        if key in result:
            raise PayloadError(f"duplicate key {key!r}")
        result[key] = value
    return result


def encode(
    fields: Mapping[str, str],
    *,
    max_bytes: int = MAX_PAYLOAD_BYTES,
    max_value_length: int = MAX_VALUE_LENGTH,
) -> str:
    """Render fields as ``key=value`` lines; refuse what :func:`decode` would not read back."""
    lines = []
    for key, value in fields.items():
        if not isinstance(key, str) or not _KEY.fullmatch(key) or len(key) > MAX_KEY_LENGTH:
            raise PayloadError(f"invalid key {key!r}")
        if not isinstance(value, str):
            raise PayloadError(f"value for {key} must be a string")
        if "\n" in value or "\r" in value:
            raise PayloadError(f"value for {key} contains a line break")
        if len(value) > max_value_length:
            raise PayloadError(f"too long value for {key} (limit {max_value_length})")
        lines.append(f"{key}={value}")
    text = "\n".join(lines)
    if len(text.encode("utf-8")) > max_bytes:
        raise PayloadError(f"payload too long (limit {max_bytes} bytes)")
    return text
