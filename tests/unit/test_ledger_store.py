"""A participant's store: what it prepares, commits and refuses, and how rounds end.

Three real stores (in-memory SQLite) with real Ed25519 keys play the participants; the
test drives the same calls the consensus makes over HTTP.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.ledger import crypto
from services.ledger.merkle import EMPTY_ROOT, MerkleTree, leaf_hash
from services.ledger.messages import idempotency_digest
from services.ledger.store import (
    Identity,
    Refused,
    Store,
    entry_bytes,
    state_statement,
    txn_signed_part,
)
from shared.db import make_engine

NAMES = ["a", "b", "c"]
BASE = "https://github.com/Sirius-social/TMTM/tree/master/transactions/1.0/"


@pytest.fixture
def stores() -> dict[str, Store]:
    keys = {n: Ed25519PrivateKey.generate() for n in NAMES}
    public = {n: k.public_key() for n, k in keys.items()}
    return {n: Store(make_engine("sqlite://"), Identity(n, keys[n], public)) for n in NAMES}


def txn(no: str, ledger: str = "L") -> dict[str, Any]:
    return {
        "@type": BASE + "issue-transaction",
        "@id": no,
        "no": no,
        "date": "d",
        "cargo": "c",
        "departure_station": "x",
        "arrival_station": "y",
        "doc_type": "WayBill",
        "ledger": {"name": ledger},
    }


def proposal(
    actor: Store, kind: str, name: str, docs: list[dict[str, Any]], base: MerkleTree
) -> dict[str, Any]:
    entries = []
    for offset, doc in enumerate(docs):
        signed = dict(doc)
        signed["msg~sig"] = {"signer": actor.me.name, "signature": actor.me.sign(doc)}
        entries.append(
            {"txn": signed, "txnMetadata": {"seqNo": base.size + offset + 1, "txnTime": "t"}}
        )
    leaves = [leaf_hash(entry_bytes(e)) for e in entries]
    body = {
        "round": uuid.uuid4().hex,
        "kind": kind,
        "ledger": name,
        "actor": actor.me.name,
        "participants": NAMES,
        "base_size": base.size,
        "base_root": base.root().hex(),
        "new_size": base.size + len(entries),
        "new_root": base.root_with(leaves).hex(),
        "entries": entries,
        "deadline": time.time() + 30,
    }
    if kind == "create":
        body["metadata"] = {"actor": {"label": actor.me.name}}
    return body


def commit_everywhere(stores: dict[str, Store], body: dict[str, Any]) -> dict[str, str]:
    signatures = {n: s.prepare(body) for n, s in stores.items()}
    for store in stores.values():
        store.apply(body["round"], signatures)
    return signatures


def test_a_round_gives_every_participant_the_same_verifiable_ledger(
    stores: dict[str, Store],
) -> None:
    a = stores["a"]
    create = proposal(a, "create", "L", [txn("g")], MerkleTree())
    commit_everywhere(stores, create)
    _, tree = a.ledger_state("L")
    body = proposal(stores["b"], "commit", "L", [txn("1"), txn("2")], tree)
    signatures = commit_everywhere(stores, body)
    roots = {s.ledger_state("L")[0].root_hash for s in stores.values()}  # type: ignore[union-attr]
    assert roots == {body["new_root"]}
    # Independently: the root is SHA-256 over the stored entries, RFC 6962 style.
    items = stores["c"].transactions(1, 0, 100)[::-1]
    leaves = [
        hashlib.sha256(
            b"\x00" + crypto.canonical({"txn": i["txn"], "txnMetadata": i["metadata"]})
        ).digest()
        for i in items
    ]
    assert MerkleTree(leaves).root().hex() == body["new_root"]
    # Every signature verifies: the actor's on each document, everyone's on the state.
    statement = state_statement("L", body["round"], 3, body["new_root"])
    for name in NAMES:
        assert crypto.verify(stores[name].me.keys[name], statement, signatures[name])
    for item in items:
        sig = item["txn"]["msg~sig"]
        assert a.me.verify(sig["signer"], txn_signed_part(item["txn"]), sig["signature"])
    assert {s["participant"] for s in items[-1]["commit"]["signatures"]} == set(NAMES)


def test_refusals(stores: dict[str, Store]) -> None:
    a, b = stores["a"], stores["b"]
    create = proposal(a, "create", "L", [txn("g")], MerkleTree())
    commit_everywhere(stores, create)
    with pytest.raises(Refused, match="already exists"):
        b.prepare(proposal(a, "create", "L", [txn("g")], MerkleTree()))
    _, tree = a.ledger_state("L")
    stale = proposal(a, "commit", "L", [txn("1")], MerkleTree())
    with pytest.raises(Refused, match="Non-consistent Root Hash"):
        b.prepare(stale)
    lying = proposal(a, "commit", "L", [txn("1")], tree)
    lying["new_root"] = EMPTY_ROOT.hex()
    with pytest.raises(Refused, match="Non-consistent Root Hash"):
        b.prepare(lying)
    forged = proposal(a, "commit", "L", [txn("1")], tree)
    forged["entries"][0]["txn"]["cargo"] = "gold"
    forged["new_root"] = tree.root_with([leaf_hash(entry_bytes(forged["entries"][0]))]).hex()
    with pytest.raises(Refused, match="msg~sig does not verify"):
        b.prepare(forged)
    other = proposal(a, "commit", "L", [txn("1", ledger="M")], tree)
    with pytest.raises(Refused, match=r"ledger\.name is not"):
        b.prepare(other)
    gap = proposal(a, "commit", "L", [txn("1")], tree)
    gap["entries"][0]["txnMetadata"]["seqNo"] = 5
    with pytest.raises(Refused, match="seqNo must be 2"):
        b.prepare(gap)
    with pytest.raises(Refused, match="does not exist"):
        b.prepare(proposal(a, "commit", "Nope", [txn("1", "Nope")], MerkleTree()))


def test_a_prepared_round_locks_its_ledger_and_abort_rolls_back(stores: dict[str, Store]) -> None:
    a, b = stores["a"], stores["b"]
    commit_everywhere(stores, proposal(a, "create", "L", [txn("g")], MerkleTree()))
    _, tree = a.ledger_state("L")
    first = proposal(a, "commit", "L", [txn("1")], tree)
    b.prepare(first)
    with pytest.raises(Refused, match="locked by round"):
        b.prepare(proposal(stores["c"], "commit", "L", [txn("2")], tree))
    assert b.abort(first["round"]) == "aborted"
    assert b.ledger_state("L")[0].size == 1  # type: ignore[union-attr]
    with pytest.raises(Refused, match="aborted"):
        b.apply(first["round"], {})
    # Unlocked again.
    b.prepare(proposal(stores["c"], "commit", "L", [txn("2")], tree))


def test_commit_needs_every_valid_signature(stores: dict[str, Store]) -> None:
    a, b = stores["a"], stores["b"]
    body = proposal(a, "create", "L", [txn("g")], MerkleTree())
    signatures = {n: s.prepare(body) for n, s in stores.items()}
    with pytest.raises(Refused, match="lacks the signatures of c"):
        b.apply(body["round"], {k: v for k, v in signatures.items() if k != "c"})
    with pytest.raises(Refused, match="of c do not verify"):
        b.apply(body["round"], {**signatures, "c": signatures["a"]})
    assert b.ledger_state("L")[0] is None
    receipt = b.apply(body["round"], signatures)
    assert b.apply(body["round"], signatures) == receipt  # idempotent
    # A committed round cannot be aborted; an unknown one is presumed aborted.
    assert b.abort(body["round"]) == "committed"
    unknown = uuid.uuid4().hex
    answer = b.round_status(unknown, presume_abort=True)
    assert answer["status"] == "aborted"
    with pytest.raises(Refused):
        b.prepare({**body, "round": unknown})
    status = b.round_status(body["round"], presume_abort=True)
    assert status["status"] == "committed" and status["certificate"] == signatures


def test_tokens(stores: dict[str, Store]) -> None:
    store = stores["a"]
    store.new_token("t1", "alice", 60)
    store.new_token("t2", "alice", 0.05)
    assert store.token_user("t1") == "alice"
    time.sleep(0.1)
    assert store.token_user("t2") is None
    assert not store.revoke_token("t1", "bob")
    assert store.revoke_token("t1", "alice")
    assert store.token_user("t1") is None
    # Only digests are stored.
    with store.sessions() as session:
        rows = session.execute(__import__("sqlalchemy").text("select digest from tokens"))
        assert all(r[0] != "t1" for r in rows)


def test_canonical_form_is_stable() -> None:
    value = {"b": [1, 2.5, "é"], "a": {"y": None, "x": True}}
    assert crypto.canonical(value) == b'{"a":{"x":true,"y":null},"b":[1,2.5,"\\u00e9"]}'
    assert json.loads(crypto.canonical(value)) == value


def test_an_idempotency_key_is_recorded_everywhere_and_never_committed_twice(
    stores: dict[str, Store],
) -> None:
    a, b = stores["a"], stores["b"]
    commit_everywhere(stores, proposal(a, "create", "L", [txn("g")], MerkleTree()))
    keyed = {**txn("1"), "idempotency_key": "k-1"}
    _, tree = a.ledger_state("L")
    assert all(s.find_key("L", "k-1") is None for s in stores.values())
    commit_everywhere(stores, proposal(a, "commit", "L", [keyed], tree))
    found = {name: s.find_key("L", "k-1") for name, s in stores.items()}
    digest = idempotency_digest({**keyed, "@id": "another message id"})
    assert set(found.values()) == {(digest, 2, 1)}  # every participant knows it: seq_no 2
    assert a.find_key("M", "k-1") is None  # keys are per ledger
    # another actor proposing the key again (a race between gateways) is refused
    _, tree = a.ledger_state("L")
    with pytest.raises(Refused, match=r"idempotency key \[k-1\] is already committed"):
        b.prepare(proposal(b, "commit", "L", [{**keyed, "no": "other"}], tree))
    twice = proposal(b, "commit", "L", [txn("2") | {"idempotency_key": "k-2"}] * 2, tree)
    with pytest.raises(Refused, match=r"idempotency key \[k-2\] appears twice"):
        b.prepare(twice)
