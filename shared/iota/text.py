"""Text <-> trytes for transaction messages and tags (PyOTA's ``from_unicode``/``decode``).

Each byte becomes two trytes, ``ALPHABET[byte % 27]`` then ``ALPHABET[byte // 27]``;
text is UTF-8 (so ASCII maps byte for byte). Decoding strips the trailing ``9``
padding a signatureMessageFragment carries, exactly as PyOTA does, which means
trailing NUL bytes do not survive a round trip.
"""

from __future__ import annotations

from shared.iota.trinary import TRYTE_ALPHABET
from shared.iota.validation import TAG_LENGTH, InvalidTrytes, validate_trytes

__all__ = [
    "TrytesDecodeError",
    "ascii_to_trytes",
    "bytes_to_trytes",
    "pad_trytes",
    "tag_trytes",
    "text_to_trytes",
    "trytes_to_ascii",
    "trytes_to_bytes",
    "trytes_to_text",
]

_INDEX = {char: value for value, char in enumerate(TRYTE_ALPHABET)}


class TrytesDecodeError(ValueError):
    """Trytes that do not decode to bytes (odd pair, or a pair worth more than 255)."""


def bytes_to_trytes(data: bytes) -> str:
    """Two trytes per byte, PyOTA's ``AsciiTrytesCodec``."""
    out: list[str] = []
    for byte in data:
        high, low = divmod(byte, 27)
        out.append(TRYTE_ALPHABET[low])
        out.append(TRYTE_ALPHABET[high])
    return "".join(out)


def trytes_to_bytes(trytes: str, *, strip_padding: bool = True) -> bytes:
    """The bytes encoded in ``trytes``; TrytesDecodeError if they are not such an encoding."""
    validate_trytes(trytes, "encoded text")
    if strip_padding and trytes.endswith("9"):
        trytes = trytes.rstrip("9")
        # A byte below 27 ends in 9 itself; put one back to keep pairs whole, as PyOTA does.
        trytes += "9" * (len(trytes) % 2)
    if len(trytes) % 2:
        raise TrytesDecodeError(f"encoded text has an odd number of trytes ({len(trytes)})")
    out = bytearray()
    for i in range(0, len(trytes), 2):
        value = _INDEX[trytes[i]] + 27 * _INDEX[trytes[i + 1]]
        if value > 255:
            raise TrytesDecodeError(
                f"trytes {trytes[i : i + 2]!r} at position {i} do not encode a byte"
            )
        out.append(value)
    return bytes(out)


def text_to_trytes(text: str) -> str:
    """Trytes of ``text`` encoded as UTF-8 (PyOTA's ``TryteString.from_unicode``)."""
    return bytes_to_trytes(text.encode("utf-8"))


def trytes_to_text(trytes: str) -> str:
    """The UTF-8 text in ``trytes`` (PyOTA's ``TryteString.decode``); errors raise."""
    data = trytes_to_bytes(trytes)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise TrytesDecodeError(f"encoded text is not UTF-8: {error.reason}") from None


def ascii_to_trytes(text: str) -> str:
    """Trytes of an ASCII ``text``; ValueError naming the first non-ASCII character."""
    for position, char in enumerate(text):
        if ord(char) > 127:
            raise ValueError(f"text must be ASCII; character {position} is {char!r}")
    return text_to_trytes(text)


def trytes_to_ascii(trytes: str) -> str:
    """The ASCII text in ``trytes``; TrytesDecodeError if it is not ASCII."""
    data = trytes_to_bytes(trytes)
    if any(byte > 127 for byte in data):
        raise TrytesDecodeError("encoded text is not ASCII")
    return data.decode("ascii")


def pad_trytes(trytes: str, length: int) -> str:
    """``trytes`` padded with 9 to ``length``; InvalidTrytes if longer."""
    validate_trytes(trytes, "trytes", max_length=length)
    return trytes.ljust(length, "9")


def tag_trytes(tag: str) -> str:
    """A 27-tryte transaction tag for ``tag``.

    A tag already written in trytes (``AKITA9MACHINE``) is used as it is, since
    that is how IOTA tags are normally given; anything else (lower case, spaces,
    punctuation) is ASCII-encoded, which fits 13 characters.
    """
    if not isinstance(tag, str):
        raise InvalidTrytes(f"tag must be a string, got {type(tag).__name__}")
    if all(char in _INDEX for char in tag):
        return validate_trytes(tag, "tag", max_length=TAG_LENGTH).ljust(TAG_LENGTH, "9")
    encoded = ascii_to_trytes(tag)
    if len(encoded) > TAG_LENGTH:
        raise InvalidTrytes(
            f"tag {tag[:20]!r} needs {len(encoded)} trytes when encoded, at most {TAG_LENGTH}"
        )
    return pad_trytes(encoded, TAG_LENGTH)
