"""Participants that stop or are SIGKILLed at the risky moments of a round.

One cluster of three processes; each test takes one participant down (SIGTERM or SIGKILL,
paused at a chosen point by FAULT_PAUSE, shared/faults.py, so the kill lands exactly there)
and brings it back. After recovery every participant holds the same transactions and root, and no
ledger holds a transaction the others lack.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.ledger.conftest import NAMES, audit
from tests.support.ledger import LedgerCluster, create_message, issue_message

pytestmark = pytest.mark.integration

PROBLEM = "https://github.com/Sirius-social/TMTM/tree/master/transactions/1.0/problem_report"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LedgerCluster]:
    tmp: Path = tmp_path_factory.mktemp("ledger-failures")
    with LedgerCluster(tmp, NAMES) as started:
        assert started.request("a", create_message("L"))[-1]["done"] is True
        yield started


def sizes(cluster: LedgerCluster, names: list[str] | None = None) -> dict[str, tuple[int, str]]:
    result = {}
    for name in names or cluster.names:
        item = cluster.ledger_by_name(name, "L")
        assert item is not None
        result[name] = (item["size"], item["root_hash"])
    return result


def wait_until(predicate: Any, timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def in_background(cluster: LedgerCluster, name: str, message: dict[str, Any]) -> Any:
    token = cluster.token(name)
    box: dict[str, Any] = {}

    def run() -> None:
        box["replies"] = cluster.request(name, message, token, timeout=60)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, box


def restart_with(cluster: LedgerCluster, name: str, fault: str) -> None:
    cluster.stop(name)
    cluster.start(name, FAULT_PAUSE=fault)


def test_a_stopped_participant_fails_the_request_and_nothing_is_committed(
    cluster: LedgerCluster,
) -> None:
    before = audit(cluster, "L")
    cluster.stop("c")
    replies = cluster.request("a", issue_message("L", "while-c-is-down", time_to_live=5))
    final = replies[-1]
    assert final["@type"] == PROBLEM and final["problem-code"] == "request_processing_error"
    assert "c: unreachable" in final["explain"]
    assert [r.get("message") for r in replies[-3:-1]] == [
        "Reset uncommitted",
        "Terminated with error",
    ]
    assert sizes(cluster, ["a", "b"]) == {n: (before["size"], before["root_hash"]) for n in "ab"}
    health = cluster.get("a", "/maintenance/check_health/")
    assert health.status_code == 503
    body = health.json()
    assert body["success"] is False and [m["participant"] for m in body["missing"]] == ["c"]
    assert [m["participant"] for m in body["answered"]] == ["b"]
    assert "c" in body["message"]
    # Back: the next request succeeds, and nobody kept the failed transaction.
    cluster.start("c")
    assert cluster.get("a", "/maintenance/check_health/").status_code == 200
    assert cluster.request("b", issue_message("L", "after-c-is-back"))[-1]["done"] is True
    after = audit(cluster, "L")
    assert after["size"] == before["size"] + 1
    assert [t["txn"]["no"] for t in after["txns"]][-1] == "after-c-is-back"


def test_participant_killed_while_prepared_rolls_back_on_recovery(cluster: LedgerCluster) -> None:
    before = audit(cluster, "L")
    restart_with(cluster, "c", "ledger.after_prepare:60")
    thread, box = in_background(cluster, "a", issue_message("L", "doomed", time_to_live=4))
    cluster.wait_log("c", "event=fault_pause point=ledger.after_prepare")
    cluster.kill("c")  # prepared (durably) and signed, but the actor never got the signature
    thread.join(60)
    assert box["replies"][-1]["problem-code"] == "request_processing_error"
    assert sizes(cluster, ["a", "b"]) == {n: (before["size"], before["root_hash"]) for n in "ab"}
    cluster.start("c")  # recovery asks the peers: the round was aborted
    cluster.wait_log("c", "outcome=aborted")
    assert cluster.request("c", issue_message("L", "next"))[-1]["done"] is True
    after = audit(cluster, "L")
    assert after["size"] == before["size"] + 1
    assert "doomed" not in [t["txn"]["no"] for t in after["txns"]]


def test_participant_killed_mid_commit_catches_up_from_its_peers(cluster: LedgerCluster) -> None:
    """Issue 20: a participant dies after every signature and the actor's commit. The
    client is told the transaction is committed (on main: a problem_report
    request_processing_error, so a client retrying on it made a duplicate), and a retry
    with the same idempotency key returns the original: no participant holds it twice."""
    before = audit(cluster, "L")
    restart_with(cluster, "c", "ledger.before_apply:60")
    message = issue_message("L", "decided", time_to_live=4, idempotency_key="decided-1")
    thread, box = in_background(cluster, "a", message)
    cluster.wait_log("c", "event=fault_pause point=ledger.before_apply")
    cluster.kill("c")  # it signed, everyone else committed, it did not write yet
    thread.join(60)
    final = box["replies"][-1]
    assert final.get("done") is True and final.get("committed") is True, box["replies"]
    assert final["seq_no"] == before["size"] + 1 and final["unconfirmed"] == ["c"]
    assert final["idempotency_key"] == "decided-1" and "replayed" not in final
    assert box["replies"][-2]["message"] == (
        "Commit operation was accepted; not confirmed in time by c: they finish the round "
        "when they recover"
    )
    assert all(s[0] == before["size"] + 1 for s in sizes(cluster, ["a", "b"]).values())
    # The client retries anyway (a new message id, the same key and body): the original.
    for actor in ("a", "b"):
        again = cluster.request(actor, {**message, "@id": f"retry-{actor}"})
        assert again[-1].get("done") is True, again
        assert again[-1]["seq_no"] == before["size"] + 1 and again[-1]["replayed"] is True
    # The same key with another body is refused, naming the key; nothing is written.
    other = cluster.request("b", {**message, "cargo": "grain"})[-1]
    assert other["@type"] == PROBLEM and other["problem-code"] == "request_error"
    assert "[idempotency_key] decided-1" in other["explain"]
    cluster.start("c")  # recovery: b or a hands over the certificate, c writes the round
    wait_until(lambda: sizes(cluster, ["c"])["c"][0] == before["size"] + 1, what="c to recover")
    # c too knows the key now: a retry there returns the original as well
    assert cluster.request("c", {**message, "@id": "retry-c"})[-1]["replayed"] is True
    after = audit(cluster, "L")  # every participant holds the same transactions
    assert after["size"] == before["size"] + 1
    nos = [t["txn"]["no"] for t in after["txns"]]
    assert nos[-1] == "decided" and nos.count("decided") == 1


def test_actor_killed_after_deciding_finishes_the_round_when_back(cluster: LedgerCluster) -> None:
    before = audit(cluster, "L")
    restart_with(cluster, "a", "ledger.after_decision:60")
    thread, box = in_background(cluster, "a", issue_message("L", "orphan", time_to_live=4))
    cluster.wait_log("a", "event=fault_pause point=ledger.after_decision")
    cluster.kill("a")  # every signature collected and stored, nobody told to commit
    thread.join(60)
    assert not box["replies"] or "done" not in box["replies"][-1]
    # b and c are prepared and cannot know the outcome without a: the ledger stays locked.
    time.sleep(1.5)
    assert sizes(cluster, ["b", "c"]) == {n: (before["size"], before["root_hash"]) for n in "bc"}
    locked = cluster.request("b", issue_message("L", "meanwhile", time_to_live=3))[-1]
    assert locked["problem-code"] == "request_processing_error" and "locked" in locked["explain"]
    cluster.start("a")  # its recovery drives the decided round to everyone
    wait_until(
        lambda: {s[0] for s in sizes(cluster).values()} == {before["size"] + 1},
        what="the round to be finished everywhere",
    )
    after = audit(cluster, "L")
    assert [t["txn"]["no"] for t in after["txns"]][-1] == "orphan"


def test_actor_killed_mid_commit_peers_finish_without_it(cluster: LedgerCluster) -> None:
    before = audit(cluster, "L")
    # a delivers the certificate to b and c in parallel; only the delivery to c waits
    restart_with(cluster, "a", "ledger.before_commit_to/c:60")
    thread, _ = in_background(cluster, "a", issue_message("L", "half", time_to_live=3))
    cluster.wait_log("a", "event=fault_pause point=ledger.before_commit_to target=c")
    # the pause holds only c's delivery: b's runs meanwhile, so see it land before the kill
    wait_until(
        lambda: sizes(cluster, ["b"])["b"][0] == before["size"] + 1,
        what="b to write the round",
    )
    cluster.kill("a")  # a and b have written the round, c is only prepared
    thread.join(60)
    # c asks its peers once the round's time is up: b has the certificate.
    wait_until(
        lambda: sizes(cluster, ["b", "c"])["c"][0] == before["size"] + 1,
        what="c to take the certificate from b",
    )
    assert len(set(sizes(cluster, ["b", "c"]).values())) == 1
    cluster.start("a")
    after = audit(cluster, "L")
    assert after["size"] == before["size"] + 1
    assert cluster.request("a", issue_message("L", "final"))[-1]["done"] is True
    assert audit(cluster, "L")["size"] == before["size"] + 2
