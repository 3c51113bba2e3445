"""shared/auth.py: scrypt password hashes and bearer token digests."""

from __future__ import annotations

import hashlib

from shared.auth import DUMMY_HASH, hash_password, new_token, token_digest, verify_password


def test_hash_verifies_only_its_password() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$16384$8$1$")
    assert verify_password("correct horse", stored)
    assert not verify_password("correct horsE", stored)
    assert not verify_password("", stored)


def test_same_password_different_salt() -> None:
    assert hash_password("pw") != hash_password("pw")


def test_malformed_or_foreign_hashes_never_verify() -> None:
    for stored in ["", "plain", "bcrypt$1$2$3$4$5", "scrypt$x$8$1$AA==$AA==", "scrypt$1$2$3"]:
        assert not verify_password("pw", stored)
    assert not verify_password("anything", DUMMY_HASH)


def test_tokens_are_long_random_and_stored_as_digests() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100 and all(len(t) >= 43 for t in tokens)
    token = tokens.pop()
    assert token_digest(token) == hashlib.sha256(token.encode()).hexdigest()
    assert token_digest(token) != token
