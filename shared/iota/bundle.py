"""Bundles: the Kerl bundle hash, structural + signature validation, and building signed bundles.

The node validates what it stores with :func:`validate_bundle`; the devnet's
faucet and coordinator build their own bundles with :func:`build_bundle`.
Rules follow IRI 1.8 (PROTOCOLS.md section 1); error messages name the rule.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from shared.iota.kerl import kerl_hash
from shared.iota.signing import has_m_bug, key_of, sign_fragment, signature_address
from shared.iota.transaction import NULL_HASH, Transaction
from shared.iota.trinary import int_to_trits, trits_to_trytes, trytes_to_trits

__all__ = [
    "TOTAL_SUPPLY",
    "BundleError",
    "Input",
    "Output",
    "build_bundle",
    "bundle_hash",
    "validate_bundle",
]

TOTAL_SUPPLY = (3**33 - 1) // 2  # 2779530283277761
_ESSENCE = slice(2187, 2349)  # address, value, obsoleteTag, timestamp, currentIndex, lastIndex
_EMPTY_TAG = "9" * 27


class BundleError(ValueError):
    """A bundle that breaks one of the node's rules; the message says which."""


@dataclass(frozen=True, slots=True)
class Input:
    """An address to spend from completely: key (seed, index, security) and its balance."""

    address: str
    balance: int
    seed: str = field(repr=False)  # never in logs or tracebacks
    key_index: int
    security: int = 2


@dataclass(frozen=True, slots=True)
class Output:
    """A transfer to ``address``; a zero-value output may carry a message."""

    address: str
    value: int
    tag: str = _EMPTY_TAG
    message: str = ""  # trytes, split over as many transactions as needed


def bundle_hash(essences: Sequence[str]) -> str:
    """Kerl over the 162-tryte essences (address..lastIndex) of every transaction, in order."""
    return trits_to_trytes(kerl_hash(trytes_to_trits("".join(essences))))


def _last_trit_zero(address: str) -> bool:
    return bool(trytes_to_trits(address[-1])[-1] == 0)


def validate_bundle(transactions: Sequence[Transaction]) -> list[tuple[str, int]]:
    """Check a complete bundle (sorted by currentIndex); return its (address, value) moves.

    Raises BundleError naming the broken rule: indices, values, bundle hash,
    trunk/branch chaining, or an input signature.
    """
    if not transactions:
        raise BundleError("empty bundle")
    last = len(transactions) - 1
    head = transactions[-1]
    total = 0
    for i, tx in enumerate(transactions):
        if tx.current_index != i or tx.last_index != last:
            raise BundleError("invalid bundle: inconsistent currentIndex/lastIndex")
        if tx.bundle != transactions[0].bundle:
            raise BundleError("invalid bundle: transactions disagree on the bundle hash")
        if tx.value_out_of_range or abs(tx.value) > TOTAL_SUPPLY:
            raise BundleError("invalid transaction value")
        if tx.value != 0 and not _last_trit_zero(tx.address):
            raise BundleError("invalid address: a value transaction's address must end in 0 trit")
        total += tx.value
        if i < last:
            if tx.trunk != transactions[i + 1].hash:
                raise BundleError("invalid bundle: trunk does not point at the next transaction")
            if tx.branch != head.trunk:
                raise BundleError("invalid bundle: branch must be the head's trunk")
    if total != 0:
        raise BundleError(f"invalid bundle: values sum to {total}, not 0")
    expected = bundle_hash([tx.trytes[_ESSENCE] for tx in transactions])
    if expected != transactions[0].bundle:
        raise BundleError("invalid bundle hash")
    for i, tx in enumerate(transactions):
        if tx.value >= 0:
            continue
        fragments = [tx.signature_message_fragment]
        for follower in transactions[i + 1 :]:
            if follower.address != tx.address or follower.value != 0:
                break
            fragments.append(follower.signature_message_fragment)
        if signature_address(fragments, expected) != tx.address:
            raise BundleError(f"invalid signature for input address {tx.address}")
    return [(tx.address, tx.value) for tx in transactions if tx.value != 0]


def _int_trytes(value: int, trytes: int) -> str:
    return trits_to_trytes(int_to_trits(value, 3 * trytes))


def _increment_tag(tag: str) -> str:
    trits = trytes_to_trits(tag).astype(np.int64)
    for k in range(trits.shape[0]):
        trits[k] += 1
        if trits[k] > 1:
            trits[k] = -1
            continue
        break
    return trits_to_trytes(trits.astype(np.int8))


def build_bundle(
    outputs: Sequence[Output],
    inputs: Sequence[Input] = (),
    *,
    remainder_address: str | None = None,
    timestamp: int | None = None,
) -> list[str]:
    """Build and sign a bundle; returns transaction trytes tail first, unattached.

    Inputs are spent completely; what the outputs do not take goes to
    ``remainder_address`` (required then). The obsoleteTag of the tail is
    bumped until the bundle hash is free of the M-bug, as PyOTA does.
    """
    stamp = int(time.time()) if timestamp is None else timestamp
    rows: list[dict[str, object]] = []
    for output in outputs:
        if output.value < 0:
            raise BundleError("output values must be >= 0")
        message = output.message or ""
        parts = [message[k : k + 2187] for k in range(0, len(message), 2187)] or [""]
        for n, part in enumerate(parts):
            rows.append(
                {
                    "address": output.address,
                    "value": output.value if n == 0 else 0,
                    "tag": (output.tag + _EMPTY_TAG)[:27],
                    "fragment": part.ljust(2187, "9"),
                }
            )
    spent = sum(o.value for o in outputs)
    available = sum(i.balance for i in inputs)
    if available < spent:
        raise BundleError(f"inputs hold {available}, outputs need {spent}")
    input_rows: list[tuple[int, Input]] = []
    tag = rows[0]["tag"] if rows else _EMPTY_TAG
    for source in inputs:
        input_rows.append((len(rows), source))
        for n in range(source.security):
            rows.append(
                {
                    "address": source.address,
                    "value": -source.balance if n == 0 else 0,
                    "tag": tag,
                    "fragment": "9" * 2187,
                }
            )
    change = available - spent
    if change:
        if remainder_address is None:
            raise BundleError("a remainder address is needed")
        rows.append(
            {"address": remainder_address, "value": change, "tag": tag, "fragment": "9" * 2187}
        )
    last = len(rows) - 1
    obsolete = str(rows[0]["tag"])
    while True:
        essences = []
        for i, row in enumerate(rows):
            row_tag = obsolete if i == 0 else str(row["tag"])
            essences.append(
                str(row["address"])
                + _int_trytes(int(row["value"]), 27)  # type: ignore[call-overload]
                + row_tag
                + _int_trytes(stamp, 9)
                + _int_trytes(i, 9)
                + _int_trytes(last, 9)
            )
        hash_ = bundle_hash(essences)
        if not has_m_bug(hash_):
            break
        obsolete = _increment_tag(obsolete)
    for start, source in input_rows:
        key = key_of(source.seed, source.key_index, source.security)
        for n in range(source.security):
            rows[start + n]["fragment"] = sign_fragment(key, n, hash_)
    trytes = []
    for i, row in enumerate(rows):
        trytes.append(
            str(row["fragment"])
            + essences[i]
            + hash_
            + NULL_HASH
            + NULL_HASH
            + str(row["tag"])
            + "9" * 27  # attachmentTimestamp, lower and upper bound (9 trytes each)
            + "9" * 27  # nonce
        )
    return trytes
