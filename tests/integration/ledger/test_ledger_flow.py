"""The seed's flow on three participant processes: websocket requests, REST, tokens.

Checked: the exact progress sequence and final message of both requests, all three
participants holding the same root, every signature verifying (independently), inclusion
proofs checked with a few lines of hashlib, BasicAuth on every route, DRF paging over
several pages, token reuse/expiry/revocation, and concurrent requests batched into rounds.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import websocket

from tests.integration.ledger.conftest import NAMES, TOKEN_TTL, audit, verify_proof
from tests.support.ledger import (
    PASSWORD,
    USER,
    LedgerCluster,
    create_message,
    issue_message,
)

pytestmark = pytest.mark.integration

PROGRESS = "https://github.com/Sirius-social/TMTM/tree/master/transactions/1.0/progress"
PROBLEM = "https://github.com/Sirius-social/TMTM/tree/master/transactions/1.0/problem_report"

CREATE_SEQUENCE = [
    (0, "Create ledger [{name}]"),
    (20, "Send propose"),
    (30, "Received responses from all participants"),
    (40, "Validate responses"),
    (60, "Send commit request"),
    (70, "Received commit responses"),
    (80, "Validate commit responses from neighbours"),
    (90, "All checks OK. Send Ack to neighbors"),
    (100, "All participants accepted ledger creation"),
    (None, "Ledger creation terminated successfully"),
]
ISSUE_SEQUENCE = [
    (0, "Start committing 1 transactions"),
    (20, "Send Propose to participants"),
    (30, "Received Propose from participants"),
    (50, "Validate responses"),
    (60, "Send Commit to participants"),
    (70, "Received Commit response from participants"),
    (80, "Validate responses"),
    (90, "Send Post-Commit"),
    (100, "Commit operation was accepted by all participants"),
]


@pytest.fixture
def cluster(shared_cluster: LedgerCluster) -> LedgerCluster:
    return shared_cluster


def steps(replies: list[dict[str, Any]]) -> list[tuple[Any, Any]]:
    for reply in replies[:-1]:
        assert reply["@type"] == PROGRESS and "done" not in reply and "ledger" not in reply
        assert len(reply["@id"]) == 32
    return [(r.get("progress"), r.get("message")) for r in replies[:-1]]


def test_create_and_issue(cluster: LedgerCluster) -> None:
    replies = cluster.request("a", create_message("cargo-1", genesis=2))
    expected = [(p, m.format(name="cargo-1")) for p, m in CREATE_SEQUENCE]
    assert steps(replies) == expected
    final = replies[-1]
    assert final["@type"] == PROGRESS and final["done"] is True
    assert final["ledger"]["name"] == "cargo-1" and isinstance(final["ledger"]["id"], int)
    assert final["~thread"] == {"thid": "create-cargo-1"}

    for index, name in enumerate(NAMES):  # every participant can be the actor
        replies = cluster.request(name, issue_message("cargo-1", f"n{index}"))
        assert steps(replies) == ISSUE_SEQUENCE
        assert replies[-1]["done"] is True and replies[-1]["ledger"]["name"] == "cargo-1"
        assert replies[-1]["ledger"]["id"] == cluster.ledger_by_name(name, "cargo-1")["id"]  # type: ignore[index]

    state = audit(cluster, "cargo-1")
    assert state["size"] == 5
    assert [t["txn"]["msg~sig"]["signer"] for t in state["txns"]] == ["a", "a", "a", "b", "c"]
    assert [t["txn"]["no"] for t in state["txns"]] == ["g0", "g1", "n0", "n1", "n2"]
    # Inclusion proofs from every participant, checked with hashlib only.
    for name in NAMES:
        ledger_id = cluster.ledger_by_name(name, "cargo-1")["id"]  # type: ignore[index]
        for seq_no in range(1, 6):
            proof = cluster.get(name, f"/ledgers/{ledger_id}/transactions/{seq_no}/proof").json()
            assert proof["root_hash"] == state["root_hash"] and proof["tree_size"] == 5
            assert verify_proof(proof), (name, seq_no)
            forged = dict(proof, entry=proof["entry"].replace("coal", "gold"))
            assert not verify_proof(forged)
    # The single-item route, as the original's item.
    item = cluster.get("b", "/ledgers/1/transactions/4/").json()
    assert set(item) >= {"txn", "seq_no", "metadata", "attachments", "date", "signer_label"}
    assert item["seq_no"] == 4 and item["metadata"]["seqNo"] == 4


def test_issue_to_missing_ledger_and_duplicate_create(cluster: LedgerCluster) -> None:
    replies = cluster.request("b", issue_message("no-such-ledger", "1"))
    assert replies[-1]["@type"] == PROBLEM
    assert replies[-1]["problem-code"] == "request_processing_error"
    assert "ledger [no-such-ledger] does not exist" in replies[-1]["explain"]
    assert replies[-1]["explain"].startswith("Accepting of new transactions was terminated")
    assert steps(replies)[-2:] == [(None, "Reset uncommitted"), (100, "Terminated with error")]

    cluster.request("c", create_message("dup"))
    replies = cluster.request("a", create_message("dup"))
    assert replies[-1]["problem-code"] == "request_processing_error"
    assert "already exists" in replies[-1]["explain"]
    assert steps(replies)[-2:] == [(None, "Reset ledger"), (100, "Terminated with error")]


@pytest.mark.parametrize(
    ("frame", "explain"),
    [
        ("not json", "Invalid JSON"),
        ("[1, 2]", "Request must be a JSON object"),
        ('{"@id": "x"}', "Missing @type attribute in request"),
        (
            '{"@type": "https://example.org/other"}',
            'Unexpected @type = "https://example.org/other"',
        ),
        (
            json.dumps({k: v for k, v in issue_message("x", "1").items() if k != "cargo"}),
            "Transaction: missing [cargo] attribute",
        ),
        (
            json.dumps({k: v for k, v in create_message("x").items() if k != "genesis"}),
            "Missing [genesis] attribute in request",
        ),
    ],
)
def test_malformed_requests(cluster: LedgerCluster, frame: str, explain: str) -> None:
    replies = cluster.request("a", frame)
    assert len(replies) == 1  # one problem_report, then the server closes the socket
    assert replies[0]["@type"] == PROBLEM
    assert replies[0]["problem-code"] == "request_error"
    assert explain in replies[0]["explain"]


ROUTES = [
    "/ledgers/",
    "/ledgers/1/",
    "/ledgers/1/transactions/",
    "/ledgers/1/transactions/1/",
    "/ledgers/1/transactions/1/proof",
    "/maintenance/check_health/",
    "/maintenance/allocate_token/",
]


@pytest.mark.parametrize("path", ROUTES)
def test_routes_need_basic_auth(cluster: LedgerCluster, path: str) -> None:
    cluster.request("a", create_message("auth-check")) if path == ROUTES[0] else None
    response = cluster.get("a", path, auth=False)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    wrong = httpx.get(cluster.url("a") + path, auth=(USER, "wrong-password"), timeout=10)
    assert wrong.status_code == 401
    assert wrong.json() == {"detail": "Invalid username/password."}
    assert cluster.get("a", path).status_code == 200


def test_public_routes(cluster: LedgerCluster) -> None:
    index = httpx.get(cluster.url("b") + "/", timeout=5).json()
    assert index["participant"] == "b" and len(index["participants"]) == 3
    assert httpx.get(cluster.url("b") + "/health", timeout=5).json()["status"] == "ok"
    assert cluster.get("a", "/ledgers/999/").status_code == 404
    assert cluster.get("a", "/ledgers/999/").json() == {"detail": "Not found."}
    assert cluster.get("a", "/ledgers/1/transactions/999/").status_code == 404


def test_paging_over_several_pages(cluster: LedgerCluster) -> None:
    message = create_message("paged", genesis=230)
    replies = cluster.request("c", message)
    assert replies[-1]["done"] is True
    ledger_id = cluster.ledger_by_name("a", "paged")["id"]  # type: ignore[index]
    base = f"/ledgers/{ledger_id}/transactions/"
    first = cluster.get("a", base).json()
    assert first["count"] == 230 and len(first["results"]) == 100 and first["previous"] is None
    assert first["next"] == f"{cluster.url('a')}{base}?page=2"
    assert [r["seq_no"] for r in first["results"]][:2] == [230, 229]  # newest first
    second = cluster.get("a", base, params={"page": 2}).json()
    assert second["previous"] == f"{cluster.url('a')}{base}"
    assert second["next"] == f"{cluster.url('a')}{base}?page=3"
    third = cluster.get("a", base, params={"page": 3}).json()
    assert len(third["results"]) == 30 and third["next"] is None
    seen = [r["seq_no"] for p in (first, second, third) for r in p["results"]]
    assert sorted(seen) == list(range(1, 231))
    for bad in ("4", "0", "x", "-1"):
        response = cluster.get("a", base, params={"page": bad})
        assert response.status_code == 404 and response.json() == {"detail": "Invalid page."}
    listing = cluster.get("a", "/ledgers/").json()
    assert listing["count"] >= 1 and listing["next"] is None
    assert {"id", "name", "metadata", "root_hash", "signatures"} <= set(listing["results"][0])


def test_check_health_waits_for_pongs(cluster: LedgerCluster) -> None:
    response = cluster.get("b", "/maintenance/check_health/")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and body["missing"] == []
    assert sorted(a["participant"] for a in body["answered"]) == ["a", "c"]
    assert all(0 < a["ms"] < 5000 for a in body["answered"])


def test_token_rules(cluster: LedgerCluster) -> None:
    cluster.request("a", create_message("tokens"))
    response = httpx.get(
        cluster.url("a") + "/maintenance/allocate_token/", auth=(USER, PASSWORD), timeout=10
    )
    token = response.json()["token"]
    assert len(token) == 32 and int(token, 16) >= 0
    # Reusable (one request per connection) while it lives...
    for no in ("t1", "t2"):
        assert cluster.request("a", issue_message("tokens", no), token)[-1]["done"] is True
    # ...but only on the participant that issued it.
    refused(cluster.ws_url("b", token))
    # Bad tokens are refused before the socket is accepted.
    refused(cluster.ws_url("a", "0" * 32))
    refused(cluster.ws_url("a", "").replace("?token=", ""))
    # Revoked by its owner: refused.
    other = cluster.token("a")
    revoke = httpx.post(
        cluster.url("a") + "/maintenance/revoke_token/",
        json={"token": other},
        auth=(USER, PASSWORD),
        timeout=10,
    )
    assert revoke.status_code == 200
    refused(cluster.ws_url("a", other))
    again = httpx.post(
        cluster.url("a") + "/maintenance/revoke_token/",
        json={"token": other},
        auth=(USER, PASSWORD),
        timeout=10,
    )
    assert again.status_code == 404
    # Expired after LEDGER_TOKEN_TTL_SECONDS.
    time.sleep(TOKEN_TTL + 0.5)
    refused(cluster.ws_url("a", token))


def refused(url: str) -> None:
    with pytest.raises(websocket.WebSocketBadStatusException) as info:
        websocket.create_connection(url, timeout=10)
    assert info.value.status_code == 403


def test_concurrent_requests_are_batched(cluster: LedgerCluster) -> None:
    cluster.request("b", create_message("busy"))
    token = cluster.token("b")  # one token, many connections (it lives TOKEN_TTL seconds)

    def one(i: int) -> list[dict[str, Any]]:
        return cluster.request("b", issue_message("busy", f"c{i}"), token)

    with ThreadPoolExecutor(24) as pool:
        results = list(pool.map(one, range(24)))
    assert all(r[-1].get("done") is True for r in results), [r[-1] for r in results]
    state = audit(cluster, "busy")
    assert state["size"] == 25
    assert sorted(t["txn"]["no"] for t in state["txns"][1:]) == sorted(f"c{i}" for i in range(24))
    rounds = {t["commit"]["round"] for t in state["txns"][1:]}
    assert len(rounds) < 24  # queued requests went into shared rounds
    starts = {r[0]["message"] for r in results}
    assert any(m != "Start committing 1 transactions" for m in starts)
