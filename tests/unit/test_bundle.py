"""Bundle hash and validation against PyOTA's BundleValidator."""

from __future__ import annotations

import pytest
from iota import Bundle
from iota import Transaction as ReferenceTransaction
from iota.transaction.validator import BundleValidator

from shared.iota.bundle import BundleError, Input, Output, build_bundle, validate_bundle
from shared.iota.pow import attach_bundle
from shared.iota.signing import address_of
from shared.iota.transaction import parse_many

SEED = "BUNDLE9TEST9SEED" + "9" * 65


def attached(trytes: list[str]) -> list[str]:
    return attach_bundle(trytes, "C" * 81, "D" * 81, 3, now_ms=1_700_000_000_000)


def sorted_transactions(trytes: list[str]):
    return sorted(parse_many(trytes).transactions, key=lambda tx: tx.current_index)


@pytest.fixture(scope="module")
def value_bundle() -> list[str]:
    return attached(
        build_bundle(
            [Output(address_of(SEED, 9, 2), 40, "PAY")],
            [Input(address_of(SEED, 0, 2), 100, SEED, 0, 2)],
            remainder_address=address_of(SEED, 1, 2),
        )
    )


def test_pyota_accepts_what_we_build(value_bundle: list[str]) -> None:
    bundle = Bundle([ReferenceTransaction.from_tryte_string(t) for t in value_bundle])
    validator = BundleValidator(bundle)
    assert validator.is_valid(), validator.errors


def test_valid_bundle_yields_its_moves(value_bundle: list[str]) -> None:
    moves = validate_bundle(sorted_transactions(value_bundle))
    assert sorted(value for _, value in moves) == [-100, 40, 60]


def test_wrong_signature_is_refused() -> None:
    trytes = build_bundle(
        [Output(address_of(SEED, 9, 2), 5)],
        [Input(address_of(SEED, 2, 2), 5, SEED, 3, 2)],  # key of another index
    )
    with pytest.raises(BundleError, match="invalid signature"):
        validate_bundle(sorted_transactions(attached(trytes)))


def test_tampered_value_breaks_the_bundle_hash(value_bundle: list[str]) -> None:
    txs = sorted_transactions(value_bundle)
    txs[0] = txs[0].with_fields(value=41)
    with pytest.raises(BundleError):
        validate_bundle(txs)


def test_structure_rules() -> None:
    txs = sorted_transactions(attached(build_bundle([Output(address_of(SEED, 4, 2), 0)])))
    assert validate_bundle(txs) == []
    broken = [txs[0].with_fields(current_index=1)]
    with pytest.raises(BundleError, match="currentIndex"):
        validate_bundle(broken)
    with pytest.raises(BundleError, match="empty"):
        validate_bundle([])


def test_chain_must_link(value_bundle: list[str]) -> None:
    txs = sorted_transactions(value_bundle)
    txs[0] = txs[0].with_fields(trunk="E" * 81)
    with pytest.raises(BundleError, match="trunk"):
        validate_bundle(txs)


def test_outputs_cannot_exceed_inputs() -> None:
    with pytest.raises(BundleError, match="inputs hold"):
        build_bundle([Output("A" * 81, 10)], [Input("A" * 81, 5, SEED, 0, 2)])
