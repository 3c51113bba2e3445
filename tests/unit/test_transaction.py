"""Transaction parsing/serialising against PyOTA's Transaction."""

from __future__ import annotations

import pytest
from iota import Transaction as ReferenceTransaction

from shared.iota.bundle import Input, Output, build_bundle
from shared.iota.pow import attach_bundle
from shared.iota.signing import address_of
from shared.iota.transaction import (
    TransactionFormatError,
    parse_many,
    parse_transaction,
    trailing_zero_trits,
)

SEED = "TRANSACTION9TEST9SEED" + "9" * 60


@pytest.fixture(scope="module")
def attached() -> list[str]:
    source = address_of(SEED, 0, 2)
    target = address_of(SEED, 5, 2)
    trytes = build_bundle(
        [Output(target, 10, "TAGGED", message="HELLO")],
        [Input(source, 25, SEED, 0, 2)],
        remainder_address=address_of(SEED, 1, 2),
    )
    return attach_bundle(trytes, "A" * 81, "B" * 81, 5, now_ms=1_700_000_000_000)


def test_fields_match_pyota(attached: list[str]) -> None:
    for trytes, ours in zip(attached, parse_many(attached).transactions, strict=True):
        ref = ReferenceTransaction.from_tryte_string(trytes)
        assert ours.hash == str(ref.hash)
        assert ours.address == str(ref.address)
        assert ours.value == ref.value
        assert ours.obsolete_tag == str(ref.legacy_tag)
        assert ours.tag == str(ref.tag)
        assert ours.timestamp == ref.timestamp
        assert ours.current_index == ref.current_index
        assert ours.last_index == ref.last_index
        assert ours.bundle == str(ref.bundle_hash)
        assert ours.trunk == str(ref.trunk_transaction_hash)
        assert ours.branch == str(ref.branch_transaction_hash)
        assert ours.attachment_timestamp == ref.attachment_timestamp
        assert ours.attachment_timestamp_upper == ref.attachment_timestamp_upper_bound
        assert ours.nonce == str(ref.nonce)
        assert ours.signature_message_fragment == str(ref.signature_message_fragment)


def test_values_of_inputs_are_negative(attached: list[str]) -> None:
    values = sorted(tx.value for tx in parse_many(attached).transactions)
    assert values[0] == -25 and sum(values) == 0


def test_serialise_round_trips(attached: list[str]) -> None:
    for trytes in attached:
        tx = parse_transaction(trytes)
        assert tx.as_trytes() == trytes
        changed = tx.with_fields(value=-3)
        assert parse_transaction(changed.trytes).value == -3


def test_attached_transactions_carry_the_weight(attached: list[str]) -> None:
    batch = parse_many(attached)
    assert (trailing_zero_trits(batch.hash_trits) >= 5).all()


def test_bad_input_is_refused() -> None:
    with pytest.raises(TransactionFormatError, match="2673"):
        parse_transaction("ABC")
    with pytest.raises(TransactionFormatError, match="not trytes"):
        parse_transaction("a" * 2673)


def test_trailing_zero_count() -> None:
    import numpy as np

    rows = np.array([[1, 0, 0], [0, 0, 0], [0, 0, 1]], dtype=np.int8)
    assert trailing_zero_trits(rows).tolist() == [2, 3, 0]
