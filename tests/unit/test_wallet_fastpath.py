"""The wallet's fast key path (numba Kerl) against PyOTA 2.1.0's pure-Python reference.

Addresses must equal PyOTA's AddressGenerator, and a bundle the wallet builds
and signs must be, trit for trit, the bundle PyOTA's ProposedBundle builds
from the same fields (same bundle hash, same M-bug tag bump, same signature
fragments as PyOTA's SignatureFragmentGenerator), and PyOTA's BundleValidator
must accept it. PyOTA is slow (about 0.3 s per security level per address), so
the cases are few but cover every security level.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from iota import Address, Bundle, Hash, ProposedBundle, ProposedTransaction, Tag, TryteString
from iota.crypto.addresses import AddressGenerator
from iota.crypto.signing import KeyGenerator, SignatureFragmentGenerator, normalize
from iota.transaction.validator import BundleValidator
from iota.trits import add_trits

from shared.iota import signing
from shared.iota.bundle import Input, Output, build_bundle
from shared.iota.text import text_to_trytes
from shared.iota.trinary import TRYTE_ALPHABET
from shared.iota.wallet import Wallet
from shared.iota.wallet_bundle import (
    WalletInput,
    _increment,
    build_transfer,
    has_m_bug,
    secure_bundle_hash,
)
from tests.unit.test_wallet import FakeNode

pytestmark = pytest.mark.timeout(120)

SEEDS = [
    "FAST9PATH9SEED9ONE" + "9" * 63,
    "Z" * 81,
    "9" * 81,
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ9" * 3,
]


def pyota_address(seed: str, index: int, security: int) -> str:
    generator = AddressGenerator(seed, security_level=security, checksum=False)
    return str(generator.get_addresses(start=index, count=1)[0])


def memory_wallet(seed: str, node: FakeNode, security: int, **options: Any) -> Wallet:
    return Wallet(
        seed, "http://unused.invalid", "sqlite://", security=security, adapter=node, **options
    )


@pytest.mark.parametrize(
    ("seed", "index", "security"),
    [
        (SEEDS[0], 0, 1),
        (SEEDS[0], 1, 2),
        (SEEDS[1], 26, 3),
        (SEEDS[2], 0, 2),
        (SEEDS[3], 3**5, 1),  # an index whose trits carry into the sixth seed trit
        (SEEDS[3], 12345, 2),
    ],
)
def test_fast_address_equals_pyota(seed: str, index: int, security: int) -> None:
    wallet = memory_wallet(seed, FakeNode(), security)
    assert wallet._address_at(index) == pyota_address(seed, index, security)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.text(alphabet=TRYTE_ALPHABET, min_size=81, max_size=81),
    index=st.integers(min_value=0, max_value=3**20),
)
def test_fast_address_equals_pyota_for_random_seeds(seed: str, index: int) -> None:
    wallet = memory_wallet(seed, FakeNode(), 1)
    assert wallet._address_at(index) == pyota_address(seed, index, 1)


def test_new_address_sequence_equals_pyota_at_security_3() -> None:
    wallet = memory_wallet(SEEDS[0], FakeNode(), 3, check_node_for_reuse=False)
    wallet.warm_up()  # must not touch the wallet's own keys or index
    handed_out = [wallet.new_address(f"order:{n}") for n in range(2)]
    generator = AddressGenerator(SEEDS[0], security_level=3, checksum=False)
    assert handed_out == [str(a) for a in generator.get_addresses(start=0, count=2)]


def test_signed_bundle_equals_pyotas_bundle_trit_for_trit() -> None:
    """Rebuild the wallet's stored bundle with PyOTA from the same fields: identical trytes."""
    node = FakeNode()
    wallet = memory_wallet(SEEDS[0], node, 2)
    deposit = wallet.deposit_address()
    node.fund(deposit, 1000)
    to = pyota_address(SEEDS[1], 0, 1)
    message = "a message long enough for two fragments " * 30  # > 1093 bytes = 2187 trytes

    result = wallet.send(250, to, tag="FASTPATH", message=message)

    stored = node.stored[-1]  # already accepted by PyOTA's BundleValidator in the fake node
    assert len(stored) == 2 + 2 + 1  # two message fragments, a security-2 input, the remainder
    assert result.remainder_address is not None
    timestamp = stored[0].timestamp

    reference = ProposedBundle()
    reference.add_transaction(
        ProposedTransaction(
            address=Address(to),
            value=250,
            tag=Tag("FASTPATH"),
            message=TryteString(text_to_trytes(message)),
            timestamp=timestamp,
        )
    )
    reference.add_inputs([Address(deposit, balance=1000, key_index=0, security_level=2)])
    for txn in reference:
        txn.timestamp = timestamp  # PyOTA stamps inputs with the wall clock; pin it
    # What finalize() adds for send_unspent_inputs_to(), but with the pinned timestamp.
    reference.add_transaction(
        ProposedTransaction(
            address=Address(result.remainder_address),
            value=750,
            tag=reference.tag,
            timestamp=timestamp,
        )
    )
    reference.finalize()
    reference.sign_inputs(KeyGenerator(SEEDS[0]))

    assert str(reference.hash) == result.bundle_hash
    assert not any(13 in part for part in normalize(reference.hash))
    assert [str(t.as_tryte_string()) for t in stored] == [
        str(t.as_tryte_string()) for t in reference
    ]


def test_signature_fragments_equal_pyotas_and_validate_at_security_3() -> None:
    node = FakeNode()
    wallet = memory_wallet(SEEDS[1], node, 3)
    deposit = wallet.deposit_address()
    node.fund(deposit, 7)
    result = wallet.send(7, pyota_address(SEEDS[2], 0, 1))
    stored = node.stored[-1]
    assert BundleValidator(Bundle(stored)).is_valid()
    inputs = [t for t in stored if str(t.address) == deposit]
    assert len(inputs) == 3 and inputs[0].value == -7

    key = KeyGenerator(SEEDS[1]).get_key(0, 3)
    expected = list(SignatureFragmentGenerator(key, stored[0].bundle_hash))
    assert [str(t.signature_message_fragment) for t in inputs] == [str(f) for f in expected]
    assert result.inputs == [deposit] and result.remainder_address is None


def test_a_bad_signature_is_caught_by_the_reference_validator() -> None:
    """The check above can fail: one flipped tryte in a signature makes PyOTA refuse it."""
    node = FakeNode()
    wallet = memory_wallet(SEEDS[2], node, 1)
    node.fund(wallet.deposit_address(), 5)
    wallet.send(5, pyota_address(SEEDS[0], 0, 1))
    stored = node.stored[-1]
    signed = next(t for t in stored if t.value < 0)
    fragment = str(signed.signature_message_fragment)
    flipped = ("A" if fragment[0] != "A" else "B") + fragment[1:]
    signed.signature_message_fragment = type(signed.signature_message_fragment)(flipped)
    assert not BundleValidator(Bundle(stored)).is_valid()


# -- shared.iota.wallet_bundle against the slow references -------------------------

trytes81 = st.text(alphabet=TRYTE_ALPHABET, min_size=81, max_size=81)


@settings(max_examples=300, deadline=None)
@given(bundle_hash=trytes81)
def test_m_bug_check_equals_pyota_normalize(bundle_hash: str) -> None:
    expected = any(13 in part for part in normalize(Hash(bundle_hash)))
    assert has_m_bug(bundle_hash) == expected == signing.has_m_bug(bundle_hash)


@pytest.mark.parametrize("bundle_hash", ["M" * 81, "N" * 81, "9" * 81, "MN" * 40 + "9"])
def test_m_bug_check_on_saturated_hashes(bundle_hash: str) -> None:
    assert has_m_bug(bundle_hash) == signing.has_m_bug(bundle_hash)


@settings(max_examples=200, deadline=None)
@given(
    tag=st.one_of(
        st.text(alphabet=TRYTE_ALPHABET, min_size=27, max_size=27),
        st.integers(0, 27).map(lambda n: "M" * n + "9" * (27 - n)),  # carries, wrap-around
    )
)
def test_tag_increment_equals_pyotas_legacy_tag_bump(tag: str) -> None:
    expected = Tag.from_trits(add_trits(Tag(tag).as_trits(), [1]))
    assert _increment(tag) == str(expected)


@pytest.mark.parametrize("security", [1, 2, 3])
def test_build_transfer_equals_the_devnets_build_bundle(security: int) -> None:
    seed = SEEDS[security]
    source = signing.address_of(seed, 4, security)
    for timestamp in range(1_700_000_000, 1_700_000_004):
        ours = build_transfer(
            to="B" * 80 + "9",
            value=3,
            tag="TAG",
            message="HELLO" * 500,  # two fragments
            inputs=[WalletInput(source, 10, 4)],
            seed=seed,
            security=security,
            remainder="C" * 80 + "9",
            timestamp=timestamp,
        )
        reference = build_bundle(
            [Output("B" * 80 + "9", 3, "TAG", "HELLO" * 500)],
            [Input(source, 10, seed, 4, security)],
            remainder_address="C" * 80 + "9",
            timestamp=timestamp,
        )
        assert ours == reference
        assert (
            signing.signature_address(
                [t[:2187] for t in ours[2 : 2 + security]], ours[0][2349:2430]
            )
            == source
        )


def test_secure_bundle_hash_needs_essences() -> None:
    with pytest.raises(ValueError, match="162 trytes"):
        secure_bundle_hash([])
    with pytest.raises(ValueError, match="162 trytes"):
        secure_bundle_hash(["9" * 161])


@pytest.mark.parametrize(
    ("value", "balance", "remainder", "message"),
    [
        (11, 10, "C" * 81, "inputs hold 10"),
        (5, 10, None, "remainder address"),
        (-1, 0, None, ">= 0"),
    ],
)
def test_build_transfer_refuses_unbalanced_bundles(
    value: int, balance: int, remainder: str | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        build_transfer(
            to="B" * 81,
            value=value,
            tag="",
            message="",
            inputs=[WalletInput("A" * 81, balance, 0)] if balance else [],
            seed=SEEDS[0],
            security=1,
            remainder=remainder,
            timestamp=0,
        )
