"""The wallet's bundle builder: PyOTA's ProposedBundle, byte for byte, without its slow loops.

A wallet transfer is one output (its message split over 2187-tryte
fragments), ``security`` transactions per input spending the whole balance,
and a remainder; every transaction carries the output's tag, the tail's
obsoleteTag is bumped until the normalized bundle hash has no 13 (the M-bug,
PROTOCOLS.md section 1), then each input signs with its WOTS key.

Why not ``shared.iota.bundle.build_bundle`` (which builds the same bundle)? A
bundle hash needs about a hundred tag bumps on average before it is free of
the M-bug, and that loop re-serialises and re-hashes every essence each time
(about 0.5 ms a bump, some 50 ms a send; PyOTA's about 10 ms a bump). Here
Keccak's state after the tail's address block is copied, the other essences
are converted to bytes once, and the M-bug test is a closed form of
``normalize``: a bump costs about 35 µs. Keys and signatures are
``shared.iota.signing``'s.
tests/unit/test_wallet_fastpath.py compares the result with PyOTA and with
``build_bundle``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sha3 import keccak_384

from shared.iota.kerl import bytes_to_trits, trits_to_bytes
from shared.iota.signing import key_of, sign_fragment
from shared.iota.trinary import int_to_trits, trits_to_trytes, trytes_to_trits

__all__ = ["FRAGMENT", "WalletInput", "build_transfer", "has_m_bug", "secure_bundle_hash"]

FRAGMENT = 2187
_NULL_HASH = "9" * 81
_EMPTY_TAG = "9" * 27
_ALPHABET = "9ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Tryte value in -13..13 ('9' = 0, 'A'..'M' = 1..13, 'N'..'Z' = -13..-1) and back.
_VALUE = {c: (i if i <= 13 else i - 27) for i, c in enumerate(_ALPHABET)}
_CHAR = {v: c for c, v in _VALUE.items()}


@dataclass(frozen=True, slots=True)
class WalletInput:
    """An address to spend completely: its balance and key index (the seed stays separate)."""

    address: str
    balance: int
    key_index: int


def _int_trytes(value: int, trytes: int) -> str:
    return trits_to_trytes(int_to_trits(value, 3 * trytes))


def has_m_bug(bundle_hash: str) -> bool:
    """``13 in normalize(bundle_hash)`` (PyOTA / shared.iota.signing), in closed form.

    normalize() moves each 27-tryte chunk's sum to zero one step at a time,
    always on the first value that can still move; that saturates values left
    to right, so each value moves by min(what is left, its room) in one go.
    """
    values = [_VALUE[c] for c in bundle_hash]
    for start in (0, 27, 54):
        chunk = values[start : start + 27]
        excess = sum(chunk)
        for value in chunk:
            if excess > 0:
                step = min(excess, value + 13)
                value -= step
                excess -= step
            elif excess < 0:
                step = min(-excess, 13 - value)
                value += step
                excess += step
            if value == 13:
                return True
    return False


def _increment(tag: str) -> str:
    """``tag`` + 1 as a balanced base-27 number (PyOTA's increment_legacy_tag: trits + 1)."""
    chars = list(tag)
    for k, char in enumerate(chars):
        value = _VALUE[char] + 1
        if value > 13:
            chars[k] = _CHAR[-13]  # wraps and carries into the next tryte
            continue
        chars[k] = _CHAR[value]
        break
    return "".join(chars)


def secure_bundle_hash(essences: Sequence[str]) -> tuple[str, str]:
    """(obsoleteTag of the tail, bundle hash) with the tail's tag bumped until M-bug free.

    ``essences`` are the 162-tryte essences (address, value, obsoleteTag,
    timestamp, currentIndex, lastIndex) tail first; only the tail's obsoleteTag
    (trytes 108..135 of its essence) changes.
    """
    if not essences or any(len(e) != 162 for e in essences):
        raise ValueError("essences are 162 trytes each, at least one")
    tail = essences[0]
    head = keccak_384()
    head.update(trits_to_bytes(trytes_to_trits(tail[:81])))
    rest = b"".join(
        trits_to_bytes(trytes_to_trits(e[k : k + 81])) for e in essences[1:] for k in (0, 81)
    )
    before, tag, after = tail[81:108], tail[108:135], tail[135:162]
    while True:
        sponge = head.copy()
        sponge.update(trits_to_bytes(trytes_to_trits(before + tag + after)))
        sponge.update(rest)
        bundle_hash = trits_to_trytes(bytes_to_trits(sponge.digest()))
        if not has_m_bug(bundle_hash):
            return tag, bundle_hash
        tag = _increment(tag)


def build_transfer(
    *,
    to: str,
    value: int,
    tag: str,
    message: str,
    inputs: Sequence[WalletInput],
    seed: str,
    security: int,
    remainder: str | None,
    timestamp: int,
) -> list[str]:
    """The signed transfer's transaction trytes, tail first, trunk/branch/nonce unset.

    ``to``/``remainder`` are 81-tryte addresses, ``tag`` at most 27 trytes,
    ``message`` trytes. Inputs are spent completely: the change (their total
    minus ``value``) goes to ``remainder``, which is required when there is change.
    """
    if value < 0:
        raise ValueError("value must be >= 0")
    change = sum(i.balance for i in inputs) - value
    if change < 0:
        raise ValueError(f"inputs hold {change + value}, the output needs {value}")
    if change and remainder is None:
        raise ValueError("a remainder address is needed")
    tag = (tag + _EMPTY_TAG)[:27]
    # (address, value, signature/message fragment); the signatures are filled in later.
    rows: list[tuple[str, int, str]] = []
    parts = [message[k : k + FRAGMENT] for k in range(0, len(message), FRAGMENT)] or [""]
    for n, part in enumerate(parts):
        rows.append((to, value if n == 0 else 0, part.ljust(FRAGMENT, "9")))
    signers: list[tuple[int, WalletInput]] = []
    for source in inputs:
        signers.append((len(rows), source))
        for n in range(security):
            rows.append((source.address, -source.balance if n == 0 else 0, "9" * FRAGMENT))
    if change:
        assert remainder is not None  # checked above; for the type checker
        rows.append((remainder, change, "9" * FRAGMENT))
    last = _int_trytes(len(rows) - 1, 9)
    stamp = _int_trytes(timestamp, 9)
    essences = [
        address + _int_trytes(amount, 27) + tag + stamp + _int_trytes(i, 9) + last
        for i, (address, amount, _fragment) in enumerate(rows)
    ]
    obsolete, bundle_hash = secure_bundle_hash(essences)
    essences[0] = essences[0][:108] + obsolete + essences[0][135:]
    fragments = [fragment for _address, _amount, fragment in rows]
    for start, source in signers:
        key = key_of(seed, source.key_index, security)
        for n in range(security):
            fragments[start + n] = sign_fragment(key, n, bundle_hash)
    # attachmentTimestamp, its bounds and the nonce stay 9s: attachToTangle sets them.
    tail_fields = _NULL_HASH + _NULL_HASH + tag + "9" * 27 + "9" * 27
    return [
        fragment + essence + bundle_hash + tail_fields
        for fragment, essence in zip(fragments, essences, strict=True)
    ]
