"""Accounts: bearer tokens, the caller, accounts and their paid membership periods."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import select

from services.lock.db import Account, Membership, Token, utc, utcnow
from services.lock.deps import (
    R401,
    R403,
    R404,
    R409,
    RBODY,
    AccountDep,
    AdminDep,
    ControllerDep,
    IdPath,
    SessionDep,
)
from services.lock.schemas import AccountIn, AccountOut, MembershipIn, MembershipOut, TokenOut
from services.lock.views import account_out, add_new, record
from shared.auth import hash_password, new_token, token_digest

router = APIRouter(tags=["accounts"])


@router.post("/auth/token", response_model=TokenOut, responses=R401)
def token(account: AccountDep, controller: ControllerDep, session: SessionDep) -> TokenOut:
    """Trade HTTP Basic credentials for a bearer token (fast to check on every call)."""
    raw = new_token()
    expires = utcnow() + timedelta(seconds=controller.settings.lock_token_ttl_seconds)
    session.add(Token(token_hash=token_digest(raw), account_id=account.id, expires_at=expires))
    session.commit()
    return TokenOut(access_token=raw, expires_at=expires)


@router.get("/me", response_model=AccountOut, responses=R401)
def me(account: AccountDep, session: SessionDep) -> AccountOut:
    """The calling account."""
    return account_out(session, account)


@router.post(
    "/accounts",
    response_model=AccountOut,
    status_code=201,
    responses={**RBODY, **R401, **R403, **R409},
)
def create_account(body: AccountIn, admin: AdminDep, session: SessionDep) -> AccountOut:
    """Create an account (admin)."""
    account = Account(username=body.username, password_hash=hash_password(body.password))
    add_new(session, account, f"account {body.username!r}")
    record(session, "account_created", account_id=admin.id, detail=body.username)
    session.commit()
    return account_out(session, account)


@router.get("/accounts", response_model=list[AccountOut], responses={**R401, **R403})
def list_accounts(admin: AdminDep, session: SessionDep) -> list[AccountOut]:
    """All accounts (admin)."""
    return [account_out(session, a) for a in session.scalars(select(Account))]


@router.post(
    "/accounts/{account_id}/memberships",
    response_model=MembershipOut,
    status_code=201,
    responses={**RBODY, **R401, **R403, **R404},
)
def add_membership(
    account_id: IdPath, body: MembershipIn, admin: AdminDep, session: SessionDep
) -> MembershipOut:
    """Record a paid membership period (admin)."""
    if session.get(Account, account_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no account {account_id}")
    starts = utc(body.starts_at) if body.starts_at else utcnow()
    m = Membership(
        account_id=account_id, starts_at=starts, ends_at=starts + timedelta(days=body.days)
    )
    session.add(m)
    session.flush()
    record(session, "membership_added", account_id=account_id, detail=f"{body.days} days")
    session.commit()
    return MembershipOut(
        id=m.id, account_id=account_id, starts_at=utc(m.starts_at), ends_at=utc(m.ends_at)
    )
