"""RFC 6962 Merkle trees of the ledger against an independent textbook implementation.

The reference below is RFC 6962 section 2.1 written out with hashlib and recursion only
(MTH and PATH exactly as the RFC defines them); the service's tree keeps levels and a
frontier instead, so agreement is a real cross-check.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.ledger.merkle import MerkleTree, leaf_hash, root_of, verify_inclusion


def ref_mth(data: list[bytes]) -> bytes:
    n = len(data)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + data[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + ref_mth(data[:k]) + ref_mth(data[k:])).digest()


def ref_path(m: int, data: list[bytes]) -> list[bytes]:
    n = len(data)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*ref_path(m, data[:k]), ref_mth(data[k:])]
    return [*ref_path(m - k, data[k:]), ref_mth(data[:k])]


def items(n: int) -> list[bytes]:
    return [f"entry-{i}".encode() for i in range(n)]


def test_known_answers() -> None:
    # The empty tree and a one-leaf tree, as in RFC 6962 / Certificate Transparency.
    assert root_of([]).hex() == ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    assert leaf_hash(b"").hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )


@pytest.mark.parametrize("n", [*range(0, 34), 63, 64, 65, 100, 127, 128, 129])
def test_root_matches_reference(n: int) -> None:
    data = items(n)
    tree = MerkleTree(leaf_hash(d) for d in data)
    assert tree.root() == ref_mth(data)
    assert tree.size == n


@pytest.mark.parametrize("n", [1, 2, 3, 5, 7, 8, 9, 16, 17, 31, 33, 100])
def test_every_proof_matches_reference_and_verifies(n: int) -> None:
    data = items(n)
    tree = MerkleTree(leaf_hash(d) for d in data)
    root = tree.root()
    for m in range(n):
        path = tree.inclusion_proof(m)
        assert path == ref_path(m, data)
        assert verify_inclusion(leaf_hash(data[m]), m, n, path, root)


def test_wrong_proofs_fail() -> None:
    data = items(13)
    tree = MerkleTree(leaf_hash(d) for d in data)
    root = tree.root()
    path = tree.inclusion_proof(6)
    good = leaf_hash(data[6])
    assert not verify_inclusion(leaf_hash(b"forged"), 6, 13, path, root)
    assert not verify_inclusion(good, 5, 13, path, root)
    assert not verify_inclusion(good, 6, 7, path, root)
    assert not verify_inclusion(good, 6, 13, path[:-1], root)
    assert not verify_inclusion(good, 6, 13, [*path, path[0]], root)
    assert not verify_inclusion(good, 13, 13, path, root)
    tampered = [bytes(32), *path[1:]]
    assert not verify_inclusion(good, 6, 13, tampered, root)
    with pytest.raises(IndexError):
        tree.inclusion_proof(13)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 70), extra=st.integers(0, 40))
def test_root_with_does_not_change_the_tree(n: int, extra: int) -> None:
    data = items(n + extra)
    tree = MerkleTree(leaf_hash(d) for d in data[:n])
    before = tree.root()
    predicted = tree.root_with([leaf_hash(d) for d in data[n:]])
    assert tree.root() == before
    assert predicted == ref_mth(data)
    tree.extend(leaf_hash(d) for d in data[n:])
    assert tree.root() == predicted


@settings(max_examples=40, deadline=None)
@given(
    data=st.lists(st.binary(max_size=40), min_size=1, max_size=50),
    pick=st.integers(min_value=0),
)
def test_random_trees(data: list[bytes], pick: int) -> None:
    tree = MerkleTree(leaf_hash(d) for d in data)
    m = pick % len(data)
    assert tree.root() == ref_mth(data)
    assert verify_inclusion(
        leaf_hash(data[m]), m, len(data), tree.inclusion_proof(m), ref_mth(data)
    )


def test_leaf_hash_length_checked() -> None:
    with pytest.raises(ValueError):
        MerkleTree().append(b"short")
