"""shared/ledger_client.py against three real participants: what the grid will use."""

from __future__ import annotations

import asyncio

import pytest

from shared.ledger_client import LedgerClient, LedgerError, settled_slice_document
from tests.integration.ledger.conftest import TOKEN_TTL, audit
from tests.support.ledger import PASSWORD, USER, LedgerCluster

pytestmark = pytest.mark.integration


def slice_doc(n: int) -> dict[str, object]:
    return settled_slice_document(
        slice_id=f"slice-{n}",
        producer="wind",
        consumer="robot 1",
        settled_at="2026-11-29T01:00:00Z",
        usage=1.5 + n,
        price=0.25,
        amount=360 + 3 * n,
        payment_request="REQ9" + str(n),
        payment="BUNDLE9" + str(n),
        payouts={"wind": 300, "grid": 60 + 3 * n},
    )


async def test_record_creates_then_appends(shared_cluster: LedgerCluster) -> None:
    client = LedgerClient(shared_cluster.url("b"), USER, PASSWORD, time_to_live=10)
    first = await client.record("grid-slices", slice_doc(0))
    assert first.created and first.ledger == "grid-slices"
    assert first.progress[0] == (0, "Create ledger [grid-slices]")
    second = await client.record("grid-slices", slice_doc(1))
    assert not second.created and second.ledger_id == first.ledger_id
    assert second.progress[-1] == (100, "Commit operation was accepted by all participants")
    # The token outlives one request and is renewed when the gateway's expires.
    await asyncio.sleep(TOKEN_TTL + 0.5)
    together = await asyncio.gather(
        *(client.record("grid-slices", slice_doc(n)) for n in (2, 3, 4))
    )
    assert {r.ledger_id for r in together} == {first.ledger_id}
    state = audit(shared_cluster, "grid-slices")
    assert state["size"] == 5
    docs = [t["txn"] for t in state["txns"]]
    assert sorted(d["no"] for d in docs) == [f"slice-{n}" for n in range(5)]
    assert all(d["doc_type"] == "SettledSlice" for d in docs)
    assert docs[0]["slice"]["payouts"] == {"wind": 300, "grid": 60}


async def test_a_retry_with_the_same_key_returns_the_original(
    shared_cluster: LedgerCluster,
) -> None:
    """Issue 20: a client that sends a record again (it did not hear the answer) gets the
    transaction committed the first time, from any participant; nothing is duplicated."""
    first = await LedgerClient(shared_cluster.url("a"), USER, PASSWORD).record(
        "keyed", slice_doc(0)
    )
    assert first.idempotency_key == "slice-0" and first.seq_no == 1 and not first.replayed
    for name in ("a", "b", "c"):
        again = await LedgerClient(shared_cluster.url(name), USER, PASSWORD).record(
            "keyed", slice_doc(0)
        )
        assert (again.ledger, again.seq_no, again.replayed) == ("keyed", 1, True)
    second = await LedgerClient(shared_cluster.url("b"), USER, PASSWORD).record(
        "keyed", slice_doc(1)
    )
    assert (second.seq_no, second.replayed) == (2, False)
    # two at once with one key: one transaction
    client = LedgerClient(shared_cluster.url("c"), USER, PASSWORD)
    both = await asyncio.gather(*(client.record("keyed", slice_doc(2)) for _ in range(2)))
    assert [r.seq_no for r in both] == [3, 3] and sorted(r.replayed for r in both) == [False, True]
    # the same key for another body: refused, named, not retried
    with pytest.raises(LedgerError) as info:
        await client.record("keyed", slice_doc(3), idempotency_key="slice-0")
    assert info.value.code == "request_error"
    assert "[idempotency_key] slice-0 is already used" in info.value.explain
    state = audit(shared_cluster, "keyed")  # every participant holds the same, once
    assert [t["txn"]["no"] for t in state["txns"]] == ["slice-0", "slice-1", "slice-2"]


async def test_errors_are_clear(shared_cluster: LedgerCluster) -> None:
    wrong = LedgerClient(shared_cluster.url("a"), USER, "not-the-password")
    with pytest.raises(LedgerError) as info:
        await wrong.record("grid-slices", slice_doc(9))
    assert info.value.code == "unauthorized"
    client = LedgerClient(shared_cluster.url("a"), USER, PASSWORD)
    with pytest.raises(LedgerError) as info:
        await client.record("never-created", slice_doc(9), create=False)
    assert info.value.code == "request_processing_error"
    assert "does not exist" in info.value.explain
    with pytest.raises(ValueError, match="document lacks cargo"):
        await client.record("grid-slices", {**slice_doc(9), "cargo": ""})
    with pytest.raises(ValueError, match="usage must be finite and not negative"):
        settled_slice_document(
            slice_id="s", producer="p", consumer="c", settled_at="t", usage=-1, price=1, amount=1
        )
    with pytest.raises(ValueError, match=r"payouts\[wind\] must be a non-negative integer"):
        settled_slice_document(
            slice_id="s",
            producer="p",
            consumer="c",
            settled_at="t",
            usage=1,
            price=1,
            amount=1,
            payouts={"wind": 0.5},  # type: ignore[dict-item]
        )
