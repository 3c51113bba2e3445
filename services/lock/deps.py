"""The route dependencies, named once: controller, session, caller (Basic or Bearer), admin.

Authentication uses FastAPI's security classes, so OpenAPI documents both schemes. The
caller is looked up in a short session of its own: async routes get an :class:`Account`
that is detached from any session and hold none while they wait for a device.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import (
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from services.lock.controller import Controller
from services.lock.db import Account, Token, utc, utcnow
from services.lock.schemas import MAX_ID
from services.lock.views import is_admin
from shared.auth import DUMMY_HASH, token_digest, verify_password
from shared.db import run_db
from shared.web import error_responses

__all__ = [
    "AccountDep",
    "AdminDep",
    "ControllerDep",
    "IdPath",
    "SessionDep",
]

# The statuses routes answer besides their success and 422, for their OpenAPI ``responses``.
Responses = dict[int | str, dict[str, Any]]
R401: Responses = {401: {"description": "no, malformed or wrong credentials"}}
R403: Responses = {403: {"description": "not allowed (admin only, or no membership)"}}
R404: Responses = {404: {"description": "no such tool, account or circle"}}
R409: Responses = {409: {"description": "already exists / not in that state"}}
# A body route: 400 for a body that is not JSON, 422 (also our sentences) for a bad one.
RBODY: Responses = error_responses({400: "the body is not JSON", 422: "a bad field (named)"})
RGATEWAY: Responses = {
    502: {"description": "the lock device reported an error"},
    503: {"description": "no broker connection, or the device is offline"},
    504: {"description": "the device did not echo the command in time"},
}

UNAUTHORIZED = HTTPException(
    status.HTTP_401_UNAUTHORIZED,
    "valid credentials required (HTTP Basic or Bearer token)",
    headers={"WWW-Authenticate": 'Basic realm="lock", Bearer'},
)


class _Basic(HTTPBasic):
    """HTTP Basic with UTF-8 credentials (RFC 7617) and our 401 for a malformed header."""

    async def __call__(self, request: HTTPConnection) -> HTTPBasicCredentials | None:  # type: ignore[override]
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic" or not credentials:
            return None
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise UNAUTHORIZED from None
        username, sep, password = decoded.partition(":")
        if not sep:
            raise UNAUTHORIZED
        return HTTPBasicCredentials(username=username, password=password)


_basic = _Basic(
    realm="lock", auto_error=False, scheme_name="HTTPBasic", description="username and password"
)
_bearer = HTTPBearer(
    auto_error=False, scheme_name="HTTPBearer", description="a token from POST /auth/token"
)


def _controller(request: Request) -> Controller:
    controller: Controller = request.app.state.controller
    return controller


ControllerDep = Annotated[Controller, Depends(_controller)]


def _session(controller: ControllerDep) -> Iterator[Session]:
    """A session for a synchronous route (run in a worker thread by FastAPI)."""
    with controller.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(_session)]


def _by_token(controller: Controller, digest: str) -> Account | None:
    with controller.sessions() as session:
        token = session.get(Token, digest)
        if token is None or utc(token.expires_at) <= utcnow():
            return None
        account = session.get(Account, token.account_id)
        if account is not None:
            controller.remember_token(digest, account, utc(token.expires_at))
        return account


def _by_name(controller: Controller, username: str) -> Account | None:
    with controller.sessions() as session:
        return session.scalar(select(Account).where(Account.username == username))


async def _account(
    controller: ControllerDep,
    basic: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Account:
    if bearer is not None:
        digest = token_digest(bearer.credentials.strip())
        account = controller.known_token(digest) or await run_db(_by_token, controller, digest)
        if account is None:
            raise UNAUTHORIZED
        return account
    if basic is not None:
        account = await run_db(_by_name, controller, basic.username)
        stored = account.password_hash if account is not None else DUMMY_HASH
        # scrypt takes tens of ms; keep the event loop serving MQTT meanwhile.
        ok = await asyncio.to_thread(verify_password, basic.password, stored)
        if account is None or not ok:
            raise UNAUTHORIZED
        return account
    raise UNAUTHORIZED


AccountDep = Annotated[Account, Depends(_account)]


def _admin_check(controller: Controller, account: Account) -> bool:
    with controller.sessions() as session:
        return is_admin(session, controller.settings, account)


async def _admin(controller: ControllerDep, account: AccountDep) -> Account:
    if not await run_db(_admin_check, controller, account):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"only members of circle {controller.settings.lock_admin_circle!r} may do this",
        )
    return account


AdminDep = Annotated[Account, Depends(_admin)]

# Ids beyond the database's integer range are refused with 422 instead of crashing the driver.
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
