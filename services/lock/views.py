"""Small queries and row -> API body mappers shared by the routers (all synchronous)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import HTTPException, status
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.lock.db import (
    Account,
    Checkout,
    Circle,
    CircleMember,
    Event,
    Membership,
    PaidSession,
    Tool,
    ToolPayment,
    utc,
    utcnow,
)
from services.lock.link import LockLink
from services.lock.schemas import AccountOut, CircleOut, PaidSessionOut, ToolOut
from services.lock.settings import LockSettings

__all__ = [
    "account_out",
    "add_new",
    "circle_out",
    "circles_of",
    "conflict",
    "get_tool",
    "is_admin",
    "live_fields",
    "paid_session_out",
    "record",
    "tool_out",
]

log = logging.getLogger("services.lock")


def circles_of(session: Session, account_id: int) -> list[str]:
    rows = session.scalars(
        select(Circle.name)
        .join(CircleMember, CircleMember.circle_id == Circle.id)
        .where(CircleMember.account_id == account_id)
    )
    return sorted(rows)


def is_admin(session: Session, settings: LockSettings, account: Account) -> bool:
    return settings.lock_admin_circle in circles_of(session, account.id)


def record(session: Session, kind: str, **fields: Any) -> Event:
    """Add an event row (committed with the caller's transaction) and log it."""
    event = Event(kind=kind, **fields)
    session.add(event)
    log.info(
        "event=%s %s",
        kind,
        " ".join(f"{k}={v}" for k, v in fields.items() if k != "detail" and v is not None),
    )
    return event


def active(session: Session, account_id: int) -> bool:
    now = utcnow()
    for m in session.scalars(select(Membership).where(Membership.account_id == account_id)):
        if utc(m.starts_at) <= now < utc(m.ends_at):
            return True
    return False


def account_out(session: Session, account: Account) -> AccountOut:
    return AccountOut(
        id=account.id,
        username=account.username,
        circles=circles_of(session, account.id),
        active_membership=active(session, account.id),
    )


def circle_out(session: Session, circle: Circle) -> CircleOut:
    members = session.scalars(
        select(Account.username)
        .join(CircleMember, CircleMember.account_id == Account.id)
        .where(CircleMember.circle_id == circle.id)
    )
    return CircleOut(
        id=circle.id, name=circle.name, description=circle.description, members=sorted(members)
    )


def live_fields(link: LockLink, prefix: str, device_id: str, lock_index: int) -> dict[str, Any]:
    """A tool's live device and lock state, as the link has seen it (memory, no database)."""
    device = link.device(prefix, device_id)
    state = link.state(prefix)
    lock = state.locks.get(lock_index) if state else None
    return {
        "device_online": device.online if device else None,
        "device_name": device.name if device else None,
        "lock_state": lock.state if lock else None,
        "lock_request": lock.request if lock else None,
    }


def tool_out(session: Session, link: LockLink, tool: Tool) -> ToolOut:
    """The tool's row, its holder, and the live device and lock state the link has seen."""
    checkout = session.get(Checkout, tool.id)
    holder = session.get(Account, checkout.account_id) if checkout else None
    circle = session.get(Circle, tool.circle_id) if tool.circle_id is not None else None
    active_session = session.scalar(
        select(PaidSession).where(PaidSession.tool_id == tool.id, PaidSession.state == "active")
    )
    return ToolOut(
        id=tool.id,
        name=tool.name,
        description=tool.description,
        device_id=tool.device_id,
        device_prefix=tool.device_prefix,
        lock_index=tool.lock_index,
        circle=circle.name if circle else None,
        holder=holder.username if holder else None,
        checked_out_at=utc(checkout.checked_out_at) if checkout else None,
        **live_fields(link, tool.device_prefix, tool.device_id, tool.lock_index),
        pricing=tool.pricing,
        price_per_minute=tool.price_per_minute,
        min_minutes=tool.min_minutes,
        income=int(
            session.scalar(
                select(func.coalesce(func.sum(ToolPayment.amount), 0)).where(
                    ToolPayment.tool_id == tool.id, ToolPayment.status == "accepted"
                )
            )
            or 0
        ),
        session=paid_session_out(session, active_session) if active_session else None,
    )


def paid_session_out(session: Session, paid: PaidSession) -> PaidSessionOut:
    tool = session.get(Tool, paid.tool_id)
    left = (utc(paid.paid_until) - utcnow()).total_seconds() if paid.state == "active" else 0.0
    return PaidSessionOut(
        id=paid.id,
        tool_id=paid.tool_id,
        tool=tool.name if tool else "",
        channel_id=paid.channel_id,
        payer=paid.payer,
        started_at=utc(paid.started_at),
        paid_until=utc(paid.paid_until),
        paid=paid.paid,
        minutes=round(paid.minutes, 3),
        seconds_left=round(max(0.0, left), 3),
        state=paid.state,
        ended_at=utc(paid.ended_at) if paid.ended_at else None,
        detail=paid.detail,
    )


def get_tool(session: Session, tool_id: int) -> Tool:
    tool = session.get(Tool, tool_id)
    if tool is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no tool {tool_id}")
    return tool


def conflict(session: Session, what: str) -> HTTPException:
    session.rollback()
    return HTTPException(status.HTTP_409_CONFLICT, f"{what} already exists")


def add_new(session: Session, row: Any, what: str) -> None:
    """Add ``row`` and flush it (its id is then known); 409 naming ``what`` if a unique
    constraint says it exists already."""
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise conflict(session, what) from None
