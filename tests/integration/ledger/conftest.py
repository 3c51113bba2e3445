"""Three ledger participants as real processes, and independent checks of what they hold."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tests.support.ledger import LedgerCluster

NAMES = ["a", "b", "c"]


#: Tokens of the shared cluster live this long, so expiry is tested without waiting.
TOKEN_TTL = 3


@pytest.fixture(scope="session")
def shared_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LedgerCluster]:
    """Three participants for the tests that do not stop any of them."""
    tmp: Path = tmp_path_factory.mktemp("ledger")
    with LedgerCluster(tmp, NAMES, env={"LEDGER_TOKEN_TTL_SECONDS": str(TOKEN_TTL)}) as started:
        yield started


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def rfc6962_root(entries: list[bytes]) -> bytes:
    """MTH of RFC 6962 section 2.1, written out independently of services/ledger."""
    if not entries:
        return hashlib.sha256(b"").digest()
    if len(entries) == 1:
        return hashlib.sha256(b"\x00" + entries[0]).digest()
    k = 1
    while k * 2 < len(entries):
        k *= 2
    return hashlib.sha256(b"\x01" + rfc6962_root(entries[:k]) + rfc6962_root(entries[k:])).digest()


def verify_proof(proof: dict[str, Any]) -> bool:
    """RFC 9162 2.1.3.2 with nothing but hashlib: the proof against its root hash."""
    index, size = proof["leaf_index"], proof["tree_size"]
    value = hashlib.sha256(b"\x00" + proof["entry"].encode()).digest()
    fn, sn = index, size - 1
    for node in (bytes.fromhex(h) for h in proof["audit_path"]):
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            value = hashlib.sha256(b"\x01" + node + value).digest()
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            value = hashlib.sha256(b"\x01" + value + node).digest()
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and value.hex() == proof["root_hash"]


def ed25519_ok(public_key: str, value: Any, signature: str) -> bool:
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key))
    try:
        key.verify(base64.b64decode(signature), canonical(value))
    except InvalidSignature:
        return False
    return True


def audit(cluster: LedgerCluster, ledger: str) -> dict[str, Any]:
    """Check every participant holds the same ledger and that every signature verifies.

    Returns the common state: {"size", "root_hash", "transactions"}.
    """
    keys = {p["name"]: p["public_key"] for p in cluster.participants}
    states = {}
    for name in cluster.names:
        item = cluster.ledger_by_name(name, ledger)
        assert item is not None, f"{name} lacks ledger {ledger}"
        txns = cluster.all_transactions(name, item["id"])
        states[name] = (item, txns)
    first_item, first_txns = states[cluster.names[0]]
    for name, (item, txns) in states.items():
        assert (item["size"], item["root_hash"]) == (first_item["size"], first_item["root_hash"]), (
            name,
            item,
            first_item,
        )
        assert [t["txn"] for t in txns] == [t["txn"] for t in first_txns], name
    # The root is the RFC 6962 hash of the entries, recomputed here.
    entries = [canonical({"txn": t["txn"], "txnMetadata": t["metadata"]}) for t in first_txns]
    assert [t["seq_no"] for t in first_txns] == list(range(1, len(first_txns) + 1))
    assert rfc6962_root(entries).hex() == first_item["root_hash"]
    assert first_item["size"] == len(entries)
    # The ledger's latest state is signed by every participant.
    statement = {
        "@type": "ledger-state",
        "ledger": ledger,
        "round": first_item["round"],
        "size": first_item["size"],
        "root_hash": first_item["root_hash"],
    }
    assert {s["participant"] for s in first_item["signatures"]} == set(cluster.names)
    for sig in first_item["signatures"]:
        assert ed25519_ok(keys[sig["participant"]], statement, sig["signature"])
    # Every transaction: the actor's signature over the document, and every participant's
    # signature over the root of the round that committed it (recomputed from the prefix).
    for t in first_txns:
        doc = {k: v for k, v in t["txn"].items() if k != "msg~sig"}
        sig = t["txn"]["msg~sig"]
        assert ed25519_ok(keys[sig["signer"]], doc, sig["signature"]), t["seq_no"]
        commit = t["commit"]
        assert rfc6962_root(entries[: commit["size"]]).hex() == commit["root_hash"]
        signed = {
            "@type": "ledger-state",
            "ledger": ledger,
            "round": commit["round"],
            "size": commit["size"],
            "root_hash": commit["root_hash"],
        }
        assert {s["participant"] for s in commit["signatures"]} == set(cluster.names)
        for s in commit["signatures"]:
            assert ed25519_ok(keys[s["participant"]], signed, s["signature"]), t["seq_no"]
    return {"size": first_item["size"], "root_hash": first_item["root_hash"], "txns": first_txns}
