"""Read-only explorer routes the devnet adds where the IRI API has none (docs/devnet.md).

IRI can tell whether a transaction is confirmed (getInclusionStates) but not by which
milestone, nor what a milestone confirmed; an explorer and the dashboard's overview need
both. Everything here reads the node's database and changes nothing.

- ``GET /explorer/milestones?since=&limit=``: the milestones after ``since`` (oldest
  first), each with how many transactions it confirmed, the tokens they moved between
  different owners (change back to the sender not counted) and the
  mean delay from a transaction's arrival to its confirmation.
- ``GET /explorer/milestones/{index}``: one milestone and the hashes it confirmed.
- ``GET /explorer/transactions/{hash}``: the milestone that confirmed a transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, HTTPException, Path, Query, Request
from sqlalchemy import and_, func, select

from services.devnet.store import TangleStore, milestones, transactions, value_bundles

__all__ = ["router"]

router = APIRouter(
    prefix="/explorer",
    tags=["explorer (read-only, beyond IRI)"],
    responses={503: {"description": "the node is starting"}},
)

MAX_MILESTONES = 500
MAX_CONFIRMED_LISTED = 2_000
_HASH = r"^[A-Z9]{81}$"


def _store(request: Request) -> TangleStore:
    store: TangleStore | None = getattr(request.app.state, "tangle_store", None)
    if store is None:
        raise HTTPException(503, "the node is starting")
    return store


async def _found(
    request: Request,
    lookup: Callable[[TangleStore, Any], dict[str, Any] | None],
    key: Any,
    missing: str,
) -> dict[str, Any]:
    """``lookup(store, key)`` in a worker thread (it queries the database); 404 if None."""
    found = await anyio.to_thread.run_sync(lookup, _store(request), key)
    if found is None:
        raise HTTPException(404, missing)
    return found


def _value_moved(rows: Sequence[Any]) -> dict[int, int]:
    """Tokens each milestone moved between different owners.

    ``rows`` are ``(milestone, moves)`` of the value bundles the milestones applied (each
    bundle once, however often it was reattached); ``moves`` is the bundle's JSON list of
    ``[address, value]`` in bundle order. Only outputs to someone else count: an output to
    one of the bundle's own input addresses, or one placed after the inputs (the remainder
    slot of IOTA's bundle layout, where PyOTA, shared/iota/wallet_bundle.py and the faucet
    put the change), is the sender's own money coming back, not a transfer.
    """
    moved: dict[int, int] = {}
    for milestone, raw in rows:
        moves = [(str(address), int(value)) for address, value in json.loads(raw)]
        first_input = next((i for i, (_, value) in enumerate(moves) if value < 0), None)
        if first_input is None:
            continue  # nothing left anyone's address
        inputs = {address for address, value in moves if value < 0}
        moved[int(milestone)] = moved.get(int(milestone), 0) + sum(
            value for address, value in moves[:first_input] if value > 0 and address not in inputs
        )
    return moved


def _milestone_summaries(store: TangleStore, since: int, limit: int) -> list[dict[str, Any]]:
    tx = transactions.c
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(milestones.c.idx, milestones.c.hash, milestones.c.timestamp)
            .where(milestones.c.idx > since)
            .order_by(milestones.c.idx)
            .limit(limit)
        ).all()
        if not rows:
            return []
        low, high = rows[0][0], rows[-1][0]
        stats = {
            int(index): (int(count), float(arrival or 0))
            for index, count, arrival in conn.execute(
                select(tx.milestone, func.count(), func.avg(tx.arrival))
                .where(and_(tx.milestone >= low, tx.milestone <= high))
                .group_by(tx.milestone)
            )
        }
        value_rows = conn.execute(
            select(value_bundles.c.milestone, value_bundles.c.moves).where(
                and_(value_bundles.c.milestone >= low, value_bundles.c.milestone <= high)
            )
        ).all()
    moved_by_milestone = _value_moved(value_rows)
    out = []
    for index, hash_, stamp in rows:
        count, mean_arrival_ms = stats.get(int(index), (0, 0.0))
        moved = moved_by_milestone.get(int(index), 0)
        # Milestone timestamps are Unix seconds, arrivals Unix milliseconds.
        delay_ms = max(0.0, int(stamp) * 1000 - mean_arrival_ms) if count else None
        out.append(
            {
                "index": int(index),
                "hash": hash_,
                "timestamp": int(stamp),
                "confirmed": count,
                "valueMoved": moved,
                "meanConfirmationDelayMs": None if delay_ms is None else round(delay_ms, 1),
            }
        )
    return out


@router.get("/milestones")
async def list_milestones(
    request: Request,
    since: Annotated[
        int, Query(ge=0, le=2**31 - 1, description="only milestones after this index")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_MILESTONES)] = 100,
) -> dict[str, Any]:
    """Milestones after ``since``, oldest first, with what each confirmed."""
    store = _store(request)
    found = await anyio.to_thread.run_sync(_milestone_summaries, store, since, limit)
    return {"milestones": found}


def _milestone(store: TangleStore, index: int) -> dict[str, Any] | None:
    with store.engine.connect() as conn:
        row = conn.execute(select(milestones).where(milestones.c.idx == index)).first()
        if row is None:
            return None
        hashes = [
            h
            for (h,) in conn.execute(
                select(transactions.c.hash)
                .where(transactions.c.milestone == index)
                .order_by(transactions.c.arrival)
                .limit(MAX_CONFIRMED_LISTED + 1)
            )
        ]
        count = conn.execute(
            select(func.count()).where(transactions.c.milestone == index)
        ).scalar_one()
    return {
        "index": int(row[0]),
        "hash": row[1],
        "timestamp": int(row[2]),
        "confirmedCount": int(count),
        "confirmed": hashes[:MAX_CONFIRMED_LISTED],
        "truncated": len(hashes) > MAX_CONFIRMED_LISTED,
    }


@router.get("/milestones/{index}", responses={404: {"description": "no such milestone"}})
async def get_milestone(
    request: Request, index: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> dict[str, Any]:
    """One milestone: its hash, timestamp and the transactions it confirmed."""
    return await _found(
        request, _milestone, index, f"no milestone {index} (pruned, or not issued yet)"
    )


def _confirmation(store: TangleStore, hash_: str) -> dict[str, Any] | None:
    with store.engine.connect() as conn:
        row = conn.execute(
            select(transactions.c.milestone, transactions.c.arrival).where(
                transactions.c.hash == hash_
            )
        ).first()
    if row is None:
        return None
    return {
        "hash": hash_,
        "confirmed": row[0] is not None,
        "milestone": None if row[0] is None else int(row[0]),
        "arrival": int(row[1]),
    }


@router.get("/transactions/{hash}", responses={404: {"description": "no such transaction"}})
async def get_confirmation(
    request: Request, hash: Annotated[str, Path(pattern=_HASH)]
) -> dict[str, Any]:
    """Whether a milestone confirmed this transaction, and which one."""
    return await _found(request, _confirmation, hash, f"no transaction {hash} on this node")
