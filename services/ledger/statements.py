"""Who a participant is and what participants sign: its identity (name, key, the
participants' public keys) and the statements of the consensus (services/ledger/consensus.py),
with the canonical bytes of a ledger entry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from services.ledger import crypto

__all__ = [
    "Identity",
    "commit_statement",
    "entry_bytes",
    "iso",
    "state_statement",
    "txn_signed_part",
]


@dataclass(frozen=True)
class Identity:
    """Who we are and whom we trust: our name and key, every participant's public key."""

    name: str
    key: Ed25519PrivateKey
    keys: dict[str, Ed25519PublicKey]

    @property
    def participants(self) -> list[str]:
        return sorted(self.keys)

    def sign(self, value: Any) -> str:
        return crypto.sign(self.key, value)

    def verify(self, who: str, value: Any, signature: object) -> bool:
        key = self.keys.get(who)
        return key is not None and crypto.verify(key, value, signature)


def state_statement(ledger: str, round_id: str, size: int, root_hash: str) -> dict[str, Any]:
    """What every participant signs in the propose stage: the ledger's new state."""
    return {
        "@type": "ledger-state",
        "ledger": ledger,
        "round": round_id,
        "size": size,
        "root_hash": root_hash,
    }


def commit_statement(round_id: str, root_hash: str) -> dict[str, Any]:
    """What every participant signs when it has committed (its receipt)."""
    return {"@type": "ledger-commit", "round": round_id, "root_hash": root_hash}


def txn_signed_part(txn: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in txn.items() if k != "msg~sig"}


def iso(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, UTC).isoformat().replace("+00:00", "Z")


def entry_bytes(entry: dict[str, Any]) -> bytes:
    return crypto.canonical(entry)
