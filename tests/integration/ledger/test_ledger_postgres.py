"""The main flow with every participant on its own PostgreSQL database.

Creating a ledger, issuing transactions through each participant (concurrently too), the
same root and valid signatures everywhere, and the state surviving a SIGKILL + restart
(the Merkle tree is rebuilt from the database and the next round builds on it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.integration.ledger.conftest import NAMES, audit, verify_proof
from tests.support.ledger import LedgerCluster, create_message, issue_message
from tests.support.postgres import fresh_database

pytestmark = pytest.mark.integration


@pytest.fixture
def pg_cluster(tmp_path: Path, postgres_server: tuple[str, str]) -> Iterator[LedgerCluster]:
    admin_dsn, base = postgres_server
    with contextlib.ExitStack() as stack:
        urls = {name: stack.enter_context(fresh_database(admin_dsn, base)) for name in NAMES}
        with LedgerCluster(tmp_path, NAMES, database_urls=urls) as started:
            yield started


def test_main_flow_on_postgresql(pg_cluster: LedgerCluster) -> None:
    cluster = pg_cluster
    assert cluster.request("a", create_message("pg", genesis=3))[-1]["done"] is True
    for index, name in enumerate(NAMES):
        assert cluster.request(name, issue_message("pg", f"p{index}"))[-1]["done"] is True
    token = cluster.token("c")
    with ThreadPoolExecutor(8) as pool:
        results = list(
            pool.map(lambda i: cluster.request("c", issue_message("pg", f"q{i}"), token), range(8))
        )
    assert all(r[-1].get("done") is True for r in results)
    state = audit(cluster, "pg")
    assert state["size"] == 3 + 3 + 8

    cluster.kill("b")
    cluster.start("b")
    assert audit(cluster, "pg") == state  # nothing lost, nothing changed
    assert cluster.request("b", issue_message("pg", "after-restart"))[-1]["done"] is True
    after = audit(cluster, "pg")
    assert after["size"] == state["size"] + 1
    ledger_id = cluster.ledger_by_name("b", "pg")["id"]  # type: ignore[index]
    for seq_no in (1, 7, after["size"]):
        proof = cluster.get("b", f"/ledgers/{ledger_id}/transactions/{seq_no}/proof").json()
        assert verify_proof(proof)
