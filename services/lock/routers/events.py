"""The event log: who unlocked what when, refusals and failures."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from services.lock.db import Account, Event, Tool, utc
from services.lock.deps import R401, AccountDep, SessionDep
from services.lock.schemas import MAX_ID, EventOut

router = APIRouter(tags=["events"])


@router.get("/events", response_model=list[EventOut], responses=R401)
def events(
    account: AccountDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    tool_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> list[EventOut]:
    """The event log, newest first: who unlocked what when, refusals and failures."""
    query = select(Event).order_by(Event.id.desc()).limit(limit)
    if tool_id is not None:
        query = query.where(Event.tool_id == tool_id)
    accounts = {a.id: a.username for a in session.scalars(select(Account))}
    tools = {t.id: t.name for t in session.scalars(select(Tool))}
    return [
        EventOut(
            id=e.id,
            at=utc(e.at),
            kind=e.kind,
            account=accounts.get(e.account_id) if e.account_id else None,
            tool=tools.get(e.tool_id) if e.tool_id else None,
            request_id=e.request_id,
            detail=e.detail,
        )
        for e in session.scalars(query)
    ]
