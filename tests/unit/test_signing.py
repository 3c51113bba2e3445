"""WOTS keys, addresses and signatures against PyOTA 2.1.0 and the published vector."""

from __future__ import annotations

import pytest
from iota import Hash
from iota.crypto.addresses import AddressGenerator
from iota.crypto.signing import KeyGenerator, SignatureFragmentGenerator
from iota.crypto.signing import normalize as reference_normalize

from shared.iota.signing import (
    address_of,
    has_m_bug,
    key_of,
    normalize,
    sign_fragment,
    signature_address,
)

SEED_A = "A" * 81
SEED_B = "SEED9FOR9UNIT9TESTS" + "9" * 62
BUNDLE = "NUJKYOQJDXVNJLMQXHLBORKWDMXBMUXEKWAWEVAAWJXZDHNXHNNQBNRJXWAPFFGYHQCDEWTJNHGVLNTWE"


def test_address_matches_the_published_vector() -> None:
    expected = "XUERGHWTYRTFUYKFKXURKHMFEVLOIFTTCNTXOGLDPCZ9CJLKHROOPGNAQYFJEPGK9OKUQROUECBAVNXRX"
    assert address_of(SEED_A, 0, 2) == expected


@pytest.mark.parametrize(("index", "security"), [(0, 1), (3, 2), (7, 3)])
def test_addresses_match_pyota(index: int, security: int) -> None:
    reference = AddressGenerator(SEED_B, security_level=security).get_addresses(index, 1)[0]
    assert address_of(SEED_B, index, security) == str(reference)


def test_key_matches_pyota() -> None:
    reference = KeyGenerator(SEED_B).get_key(2, 1)
    assert key_of(SEED_B, 2, 1).tolist() == list(reference.as_trits())


def test_normalize_matches_pyota() -> None:
    assert normalize(BUNDLE) == reference_normalize(Hash(BUNDLE))
    assert all(sum(chunk) == 0 for chunk in normalize(BUNDLE))


def test_signature_matches_pyota_and_verifies() -> None:
    key = key_of(SEED_B, 1, 2)
    fragments = [sign_fragment(key, i, BUNDLE) for i in range(2)]
    reference = SignatureFragmentGenerator(KeyGenerator(SEED_B).get_key(1, 2), Hash(BUNDLE))
    assert fragments == [str(next(reference)) for _ in range(2)]
    assert signature_address(fragments, BUNDLE) == address_of(SEED_B, 1, 2)


def test_tampered_signature_does_not_verify() -> None:
    key = key_of(SEED_B, 0, 1)
    fragment = sign_fragment(key, 0, BUNDLE)
    tampered = ("A" if fragment[0] != "A" else "B") + fragment[1:]
    assert signature_address([tampered], BUNDLE) != address_of(SEED_B, 0, 1)
    other_bundle = "A" * 81
    assert normalize(other_bundle) != normalize(BUNDLE)
    assert signature_address([fragment], other_bundle) != address_of(SEED_B, 0, 1)


def test_m_bug_detection() -> None:
    assert has_m_bug("M" * 81)  # 13s survive the balancing
    assert not has_m_bug("9" * 81)  # all zeros
    with pytest.raises(ValueError):
        normalize("ABC")
