"""JSON and ASCII <-> trytes for MAM payloads, as iota.js's converter does it.

The energy grid (seed 001) publishes ``asciiToTrytes(JSON.stringify(obj))`` and reads
``JSON.parse(trytesToAscii(trytes))``: every character becomes two trytes,
``ALPHABET[code % 27]`` then ``ALPHABET[code // 27]``. JSON is dumped compactly and
ASCII-only (non-ASCII as ``\\uXXXX``), which JavaScript's JSON.parse reads back the same.
"""

from __future__ import annotations

import json
import re
from typing import Any

from shared.iota.trinary import TRYTE_ALPHABET
from shared.mam.errors import MamPayloadError

__all__ = ["ascii_to_trytes", "json_from_trytes", "json_to_trytes", "trytes_to_ascii"]

_VALUE = {char: value for value, char in enumerate(TRYTE_ALPHABET)}
_TRYTES_RE = re.compile(r"[9A-Z]*")


def ascii_to_trytes(text: str) -> str:
    """Two trytes per ASCII character; ValueError for anything beyond ASCII (like iota.js)."""
    if not text.isascii():
        raise ValueError("asciiToTrytes takes ASCII text only (code points 0..127)")
    out = []
    for char in text:
        high, low = divmod(ord(char), 27)
        out.append(TRYTE_ALPHABET[low] + TRYTE_ALPHABET[high])
    return "".join(out)


def trytes_to_ascii(trytes: str) -> str:
    """The characters of tryte pairs (iota.js trytesToAscii); MamPayloadError if malformed."""
    if not _TRYTES_RE.fullmatch(trytes):
        raise MamPayloadError("not trytes (9A-Z)")
    if len(trytes) % 2:
        raise MamPayloadError("text trytes come in pairs; the length is odd")
    return "".join(
        chr(_VALUE[trytes[i]] + 27 * _VALUE[trytes[i + 1]]) for i in range(0, len(trytes), 2)
    )


def json_to_trytes(value: Any) -> str:
    """Trytes of ``JSON.stringify(value)``."""
    return ascii_to_trytes(json.dumps(value, separators=(",", ":"), ensure_ascii=True))


def json_from_trytes(trytes: str) -> Any:
    """The JSON value in ``trytes``; MamPayloadError if it is not JSON text.

    Trailing ``99`` pairs (NUL characters, the padding of a transaction message) are
    dropped first: JSON text never ends in NUL.
    """
    text = trytes_to_ascii(trytes)
    try:
        return json.loads(text.rstrip("\x00"))
    except json.JSONDecodeError as error:
        raise MamPayloadError(f"the message is not JSON: {error}") from None
