"""Keys, canonical JSON and Ed25519 signatures of the participants (``cryptography``).

Everything that is hashed or signed is first written as canonical JSON: keys sorted, no
spaces, non-ASCII escaped (so the bytes are the same in every process and database).
Signatures and public keys travel as standard base64 of the raw 64 and 32 bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

__all__ = [
    "canonical",
    "decode_public_key",
    "encode_public_key",
    "load_or_create_key",
    "private_key_from_seed",
    "seed_of",
    "sign",
    "verify",
]


def canonical(value: Any) -> bytes:
    """The one byte form of a JSON value that is hashed and signed."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def encode_public_key(key: Ed25519PublicKey) -> str:
    return b64(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def decode_public_key(text: str) -> Ed25519PublicKey:
    """A base64 32-byte Ed25519 public key; ValueError naming the problem otherwise."""
    try:
        raw = unb64(text.strip())
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise ValueError("public key is not base64") from None
    if len(raw) != 32:
        raise ValueError(f"public key must be 32 bytes, got {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


def sign(key: Ed25519PrivateKey, value: Any) -> str:
    """base64 Ed25519 signature of ``canonical(value)``."""
    return b64(key.sign(canonical(value)))


def verify(key: Ed25519PublicKey, value: Any, signature: object) -> bool:
    if not isinstance(signature, str):
        return False
    try:
        key.verify(unb64(signature), canonical(value))
    except (InvalidSignature, binascii.Error, ValueError, UnicodeEncodeError):
        return False
    return True


def private_key_from_seed(text: str) -> Ed25519PrivateKey:
    """A key from base64 of its 32-byte seed, or from a generated secret of at least 32
    hex digits (deploy/init-secrets.sh makes those; the seed is its SHA-256)."""
    text = text.strip()
    if len(text) >= 32 and all(c in "0123456789abcdef" for c in text.lower()):
        return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(text.encode()).digest())
    try:
        raw = unb64(text)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise ValueError("private key is neither base64 nor 32+ hex digits") from None
    if len(raw) != 32:
        raise ValueError(f"private key must be a 32-byte seed, got {len(raw)} bytes")
    return Ed25519PrivateKey.from_private_bytes(raw)


def seed_of(key: Ed25519PrivateKey) -> str:
    return b64(
        key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
    )


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The participant's private key (PEM, PKCS#8); made (mode 0600) on the first start."""
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 private key")
        return key
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    return key
