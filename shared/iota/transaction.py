"""The 2673-tryte IOTA transaction: fast parse and serialise, single or in batches.

PyOTA's ``Transaction.from_tryte_string`` costs about 13 ms (pure-Python trit
conversions); a node validating a thousand transactions a second needs
microseconds, so the string fields are plain slices and the integer fields are
numpy dot products over a whole batch at once. Field offsets follow IRI 1.8
(PROTOCOLS.md section 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from shared.iota.curl import hash_many
from shared.iota.trinary import int_to_trits, is_trytes, trits_to_trytes, trytes_to_trits

__all__ = [
    "NULL_HASH",
    "TRANSACTION_TRITS",
    "TRANSACTION_TRYTES",
    "ParsedBatch",
    "Transaction",
    "TransactionFormatError",
    "parse_many",
    "parse_transaction",
    "trailing_zero_trits",
    "transaction_hashes",
]

TRANSACTION_TRYTES = 2673
TRANSACTION_TRITS = 3 * TRANSACTION_TRYTES
NULL_HASH = "9" * 81

# (name, first tryte, end tryte)
_SLICES = {
    "signature_message_fragment": (0, 2187),
    "address": (2187, 2268),
    "value": (2268, 2295),
    "obsolete_tag": (2295, 2322),
    "timestamp": (2322, 2331),
    "current_index": (2331, 2340),
    "last_index": (2340, 2349),
    "bundle": (2349, 2430),
    "trunk": (2430, 2511),
    "branch": (2511, 2592),
    "tag": (2592, 2619),
    "attachment_timestamp": (2619, 2628),
    "attachment_timestamp_lower": (2628, 2637),
    "attachment_timestamp_upper": (2637, 2646),
    "nonce": (2646, 2673),
}
_INT_FIELDS = (
    "timestamp",
    "current_index",
    "last_index",
    "attachment_timestamp",
    "attachment_timestamp_lower",
    "attachment_timestamp_upper",
)
# Values live in 81 trits, but IRI requires trits 33..80 to be zero; the first
# 33 fit an int64, so the common case is one vectorised dot product.
_VALUE_TRITS = 33
_POWERS = (3 ** np.arange(_VALUE_TRITS, dtype=np.int64)).astype(np.int64)


class TransactionFormatError(ValueError):
    """Trytes that are not a transaction (length, alphabet)."""


@dataclass(frozen=True, slots=True)
class Transaction:
    """One transaction, fields named as in IRI (snake_case)."""

    hash: str
    signature_message_fragment: str
    address: str
    value: int
    obsolete_tag: str
    timestamp: int
    current_index: int
    last_index: int
    bundle: str
    trunk: str
    branch: str
    tag: str
    attachment_timestamp: int
    attachment_timestamp_lower: int
    attachment_timestamp_upper: int
    nonce: str
    trytes: str = field(repr=False, default="")
    value_out_of_range: bool = False  # value trits 33..80 not all zero

    @property
    def is_tail(self) -> bool:
        return self.current_index == 0

    def as_trytes(self) -> str:
        """Serialise the fields (not the cached ``trytes``) to 2673 trytes."""
        parts = []
        for name, (start, end) in _SLICES.items():
            raw = getattr(self, name)
            if isinstance(raw, int):
                parts.append(trits_to_trytes(int_to_trits(raw, 3 * (end - start))))
            else:
                if len(raw) != end - start:
                    raise TransactionFormatError(f"{name} must be {end - start} trytes")
                parts.append(raw)
        return "".join(parts)

    def with_fields(self, **changes: object) -> Transaction:
        """A copy with ``changes`` applied and ``trytes`` re-serialised (hash left stale)."""
        updated = replace(self, **changes)  # type: ignore[arg-type]
        return replace(updated, trytes=updated.as_trytes())


@dataclass(slots=True)
class ParsedBatch:
    """A batch of transactions with their trits, as the node's store path wants them."""

    transactions: list[Transaction]
    trits: npt.NDArray[np.int8]  # (n, 8019)
    hash_trits: npt.NDArray[np.int8]  # (n, 243)


def _check(trytes: str, position: int | None = None) -> None:
    where = "" if position is None else f" (item {position})"
    if not isinstance(trytes, str) or len(trytes) != TRANSACTION_TRYTES:
        size = len(trytes) if isinstance(trytes, str) else type(trytes).__name__
        raise TransactionFormatError(
            f"a transaction is {TRANSACTION_TRYTES} trytes, got {size}{where}"
        )
    if not is_trytes(trytes):
        raise TransactionFormatError(f"not trytes{where}")


def _signed_int(trits: npt.NDArray[np.int8]) -> int:
    value = 0
    for trit in reversed(trits.tolist()):
        value = value * 3 + trit
    return value


def _build(
    trytes: str, hash_: str, row: npt.NDArray[np.int8], ints: dict[str, int], value: int
) -> Transaction:
    values: dict[str, object] = {}
    for name, (start, end) in _SLICES.items():
        values[name] = ints[name] if name in ints else trytes[start:end]
    values["value"] = value
    out_of_range = bool(row[3 * 2268 + _VALUE_TRITS : 3 * 2295].any())
    if out_of_range:
        values["value"] = _signed_int(row[3 * 2268 : 3 * 2295])
    return Transaction(hash=hash_, trytes=trytes, value_out_of_range=out_of_range, **values)  # type: ignore[arg-type]


def parse_many(trytes_list: Sequence[str], *, with_hashes: bool = True) -> ParsedBatch:
    """Parse (and Curl-hash) many transactions at once; raises TransactionFormatError."""
    for position, trytes in enumerate(trytes_list):
        _check(trytes, position)
    count = len(trytes_list)
    if count == 0:
        empty = np.empty((0, TRANSACTION_TRITS), dtype=np.int8)
        return ParsedBatch([], empty, np.empty((0, 243), dtype=np.int8))
    trits = trytes_to_trits("".join(trytes_list)).reshape(count, TRANSACTION_TRITS)
    hash_trits = hash_many(trits) if with_hashes else np.zeros((count, 243), dtype=np.int8)
    values = trits[:, 3 * 2268 : 3 * 2268 + _VALUE_TRITS].astype(np.int64) @ _POWERS
    int_columns = {}
    for name in _INT_FIELDS:
        start, end = _SLICES[name]
        width = 3 * (end - start)
        int_columns[name] = (
            trits[:, 3 * start : 3 * end].astype(np.int64) @ _POWERS[:width]
        ).tolist()
    hashes = [trits_to_trytes(h) for h in hash_trits] if with_hashes else [NULL_HASH] * count
    value_list = values.tolist()
    transactions = [
        _build(
            trytes_list[i],
            hashes[i],
            trits[i],
            {name: column[i] for name, column in int_columns.items()},
            value_list[i],
        )
        for i in range(count)
    ]
    return ParsedBatch(transactions, trits, hash_trits)


def parse_transaction(trytes: str, hash_: str | None = None) -> Transaction:
    """Parse one transaction; computes its Curl-P-81 hash unless ``hash_`` is given."""
    batch = parse_many([trytes], with_hashes=hash_ is None)
    tx = batch.transactions[0]
    return tx if hash_ is None else replace(tx, hash=hash_)


def transaction_hashes(trytes_list: Sequence[str]) -> list[str]:
    """Curl-P-81 hashes of many transactions."""
    return [tx.hash for tx in parse_many(trytes_list).transactions]


def trailing_zero_trits(hash_trits: npt.NDArray[np.int8]) -> npt.NDArray[np.int64]:
    """For each row of hash trits, how many trits at its end are zero (the PoW weight)."""
    rows = np.atleast_2d(hash_trits)
    nonzero = rows[:, ::-1] != 0
    first = np.argmax(nonzero, axis=1)
    all_zero = ~nonzero.any(axis=1)
    return np.where(all_zero, rows.shape[1], first).astype(np.int64)
