"""Circles: groups of accounts; a tool may require one."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import select

from services.lock.db import Account, Circle, CircleMember
from services.lock.deps import (
    R401,
    R403,
    R404,
    R409,
    RBODY,
    AccountDep,
    AdminDep,
    IdPath,
    SessionDep,
)
from services.lock.schemas import CircleIn, CircleOut, MemberIn
from services.lock.views import add_new, circle_out, record

router = APIRouter(tags=["circles"])


@router.post(
    "/circles",
    response_model=CircleOut,
    status_code=201,
    responses={**RBODY, **R401, **R403, **R409},
)
def create_circle(body: CircleIn, admin: AdminDep, session: SessionDep) -> CircleOut:
    """Create a circle (admin)."""
    circle = Circle(name=body.name, description=body.description)
    add_new(session, circle, f"circle {body.name!r}")
    record(session, "circle_created", account_id=admin.id, detail=body.name)
    session.commit()
    return circle_out(session, circle)


@router.get("/circles", response_model=list[CircleOut], responses=R401)
def list_circles(account: AccountDep, session: SessionDep) -> list[CircleOut]:
    """All circles and their members."""
    return [circle_out(session, c) for c in session.scalars(select(Circle))]


@router.post(
    "/circles/{circle_id}/members",
    response_model=CircleOut,
    status_code=201,
    responses={**RBODY, **R401, **R403, **R404, **R409},
)
def add_member(
    circle_id: IdPath, body: MemberIn, admin: AdminDep, session: SessionDep
) -> CircleOut:
    """Add an account to a circle (admin)."""
    circle = session.get(Circle, circle_id)
    if circle is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no circle {circle_id}")
    if session.get(Account, body.account_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no account {body.account_id}")
    if session.get(CircleMember, (circle_id, body.account_id)) is None:
        session.add(CircleMember(circle_id=circle_id, account_id=body.account_id))
        record(session, "member_added", account_id=body.account_id, detail=circle.name)
        session.commit()
    return circle_out(session, circle)


@router.delete(
    "/circles/{circle_id}/members/{account_id}",
    response_model=CircleOut,
    responses={**R401, **R403, **R404},
)
def remove_member(
    circle_id: IdPath, account_id: IdPath, admin: AdminDep, session: SessionDep
) -> CircleOut:
    """Remove an account from a circle (admin)."""
    circle = session.get(Circle, circle_id)
    member = session.get(CircleMember, (circle_id, account_id))
    if circle is None or member is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such circle membership")
    session.delete(member)
    record(session, "member_removed", account_id=account_id, detail=circle.name)
    session.commit()
    return circle_out(session, circle)
