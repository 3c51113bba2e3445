"""The seed-001 registration API, shared by the producer (sources register) and the grid
(producers and consumers register).

    PUT    /registration/{registrationId}            {itemName, itemType, root?, sideKey?}
           -> {"success":true,"message":"OK"} (+ "root","sideKey" when the service answers
              with a channel of its own, as the grid does for a consumer)
    DELETE /registration/{registrationId}/{sideKey}  -> {"success":true,"message":"OK"}
    DELETE /registration/{registrationId}            only for a registration without sideKey

Validation is the original's (registrationId at least 8 characters after trimming; root
and sideKey 81 trytes ``[A-Z9]``) plus bounds on every string. Every error keeps the
seed's body ``{"success":false,"message":"<what is wrong>"}`` with a real status:
400 bad parameter, 403 wrong sideKey, 404 unknown registration, 422 unreadable body.

A service plugs its own rules in with a :class:`RegistrationHandler` (the grid checks
the registrant's ``hello`` and opens the consumer's return channel there)::

    store = RegistrationStore(sessions)
    app.include_router(registration_router(store, handler))
    install_energy_error_handlers(app)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, FastAPI, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.db import run_db
from shared.energy.models import Registration, utcnow
from shared.energy.roles import RoleName, declared_role
from shared.web import AsciiJSONResponse, install_error_handlers, provide, provided

__all__ = [
    "MAX_REGISTRATION_ID_LENGTH",
    "MIN_REGISTRATION_ID_LENGTH",
    "TRYTES_81",
    "ApiResult",
    "EnergyApiError",
    "RegistrationHandler",
    "RegistrationRequest",
    "RegistrationResult",
    "RegistrationStore",
    "check_registration_id",
    "check_trytes_81",
    "install_energy_error_handlers",
    "registration_router",
    "router",
]

MIN_REGISTRATION_ID_LENGTH = 8
MAX_REGISTRATION_ID_LENGTH = 256
TRYTES_81 = r"^[A-Z9]{81}$"
_TRYTES_81 = re.compile(TRYTES_81)


class EnergyApiError(Exception):
    """An error answered as ``{"success":false,"message":message}`` with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _invalid(name: str, why: str) -> EnergyApiError:
    return EnergyApiError(400, f"The parameter '{name}' has an invalid value: {why}.")


def check_registration_id(value: str, name: str = "registrationId") -> str:
    """The trimmed id, or a 400 saying why it is refused."""
    trimmed = value.strip()
    if len(trimmed) < MIN_REGISTRATION_ID_LENGTH:
        raise _invalid(name, f"it must be at least {MIN_REGISTRATION_ID_LENGTH} characters")
    if len(trimmed) > MAX_REGISTRATION_ID_LENGTH:
        raise _invalid(name, f"it must be at most {MAX_REGISTRATION_ID_LENGTH} characters")
    if not trimmed.isprintable():
        raise _invalid(name, "it must not hold control characters")
    return trimmed


def check_trytes_81(value: str, name: str) -> str:
    if not _TRYTES_81.fullmatch(value):
        raise _invalid(name, "it must be 81 trytes (A-Z and 9)")
    return value


class ApiResult(BaseModel):
    """The seed's answer: ``success`` and a ``message`` (``"OK"`` or what is wrong)."""

    success: bool = Field(examples=[True])
    message: str = Field(examples=["OK"])


class RegistrationResult(ApiResult):
    """The registration answer; ``root``/``sideKey`` name a channel the registrant should
    read (the grid's return channel for a consumer)."""

    root: str | None = Field(default=None, examples=["J" * 81])
    sideKey: str | None = Field(default=None, examples=["C" * 81])


class RegistrationRequest(BaseModel):
    """The seed's registration body (extra fields are ignored, as the original did)."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {
                    "itemName": "My Solar Source",
                    "itemType": "solar",
                    "root": "C" * 81,
                    "sideKey": "A" * 81,
                }
            ]
        },
    )

    itemName: str = Field(min_length=1, max_length=256)
    itemType: str = Field(min_length=1, max_length=64)
    root: str | None = Field(default=None, pattern=TRYTES_81)
    sideKey: str | None = Field(default=None, pattern=TRYTES_81)
    # The kit's addition (shared/energy/roles.py): what a grid registrant does, when its
    # itemType is not the seed's producer (seller) or consumer (buyer).
    role: RoleName | None = Field(
        default=None, description="seller, buyer or both (default: from itemType)"
    )

    def declared_role(self) -> RoleName | None:
        """``role``, or the one the seed's ``itemType`` names; None for a source."""
        return declared_role(self.itemType, self.role)


class RegistrationHandler(Protocol):
    """What a service adds to registering; raise EnergyApiError to refuse."""

    async def on_register(
        self, registration_id: str, request: RegistrationRequest, previous: Registration | None
    ) -> dict[str, str]:
        """Check (and prepare for) a registration; the fields to add to the answer."""
        ...

    async def on_deregister(self, registration: Registration) -> None:
        """Stop whatever the service does for ``registration`` (it is deleted next)."""
        ...


class RegistrationStore:
    """Registrations in the service's database (``energy_registrations``)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def get(self, registration_id: str) -> Registration | None:
        with self.sessions() as session:
            return session.get(Registration, registration_id)

    def all(self, item_type: str | None = None) -> list[Registration]:
        with self.sessions() as session:
            query = select(Registration).order_by(Registration.created_at)
            if item_type is not None:
                query = query.where(Registration.item_type == item_type)
            return list(session.scalars(query))

    def save(self, registration_id: str, request: RegistrationRequest) -> Registration:
        """Create or update (same id: new name, type and channel)."""
        now: datetime = utcnow()
        with self.sessions.begin() as session:
            row = session.get(Registration, registration_id)
            if row is None:
                row = Registration(registration_id=registration_id, created_at=now)
                session.add(row)
            row.item_name = request.itemName
            row.item_type = request.itemType
            row.role = request.declared_role()
            row.root = request.root
            row.side_key = request.sideKey
            row.updated_at = now
        return row

    def delete(self, registration_id: str) -> bool:
        with self.sessions.begin() as session:
            row = session.get(Registration, registration_id)
            if row is None:
                return False
            session.delete(row)
        return True


class _AcceptAll:
    async def on_register(
        self, registration_id: str, request: RegistrationRequest, previous: Registration | None
    ) -> dict[str, str]:
        return {}

    async def on_deregister(self, registration: Registration) -> None:
        return None


RegistrationId = Annotated[
    str,
    Path(
        description="Your own random id (at least 8 characters); keep it for later calls.",
        examples=["SOURCE9ID9000001"],
    ),
]


@dataclass(frozen=True)
class _Registrations:
    """What the registration routes serve: the store and the service's rules."""

    store: RegistrationStore
    rules: RegistrationHandler


async def _registrations(request: Request) -> _Registrations:
    bound: _Registrations = provided(request, "energy_registrations")
    return bound


Registrations = Annotated[_Registrations, Depends(_registrations)]

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ApiResult, "description": text}
    for code, text in (
        (400, "A parameter is invalid"),
        (403, "The sideKey does not match the registration"),
        (404, "The registration does not exist"),
        (409, "No message at the root yet: publish hello first (worth retrying)"),
        (422, "The body is not a valid registration, or the channel does not start with hello"),
        (503, "The IOTA node could not be asked for the channel"),
    )
}

#: The three routes, module-level; :func:`registration_router` gives them one service's
#: store and rules.
router = APIRouter(tags=["registration"])


async def _existing(store: RegistrationStore, registration_id: str) -> Registration:
    row = await run_db(store.get, registration_id)
    if row is None:
        raise EnergyApiError(404, f"Registration '{registration_id}' does not exist.")
    return row


@router.put(
    "/registration/{registrationId}",
    response_model=RegistrationResult,
    response_model_exclude_none=True,
    responses=_ERRORS,
)
async def register(
    registrationId: RegistrationId, body: RegistrationRequest, bound: Registrations
) -> Any:
    """Register (or update) a registrant and its MAM channel."""
    registration_id = check_registration_id(registrationId)
    previous = await run_db(bound.store.get, registration_id)
    if previous is not None and previous.side_key and previous.side_key != body.sideKey:
        # The side key is what proves the caller owns the registration it overwrites.
        raise EnergyApiError(403, f"Registration '{registration_id}' sideKey failure.")
    extra = await bound.rules.on_register(registration_id, body, previous)
    await run_db(bound.store.save, registration_id, body)
    return RegistrationResult(success=True, message="OK", **extra)


@router.delete(
    "/registration/{registrationId}/{sideKey}", response_model=ApiResult, responses=_ERRORS
)
async def deregister_with_key(
    registrationId: RegistrationId, sideKey: str, bound: Registrations
) -> ApiResult:
    """Deregister a registrant that registered with a sideKey; its channel is no
    longer read."""
    registration_id = check_registration_id(registrationId)
    check_trytes_81(sideKey, "sideKey")
    row = await _existing(bound.store, registration_id)
    if row.side_key != sideKey:
        raise EnergyApiError(403, f"Registration '{registration_id}' sideKey failure.")
    await bound.rules.on_deregister(row)
    await run_db(bound.store.delete, registration_id)
    return ApiResult(success=True, message="OK")


@router.delete("/registration/{registrationId}", response_model=ApiResult, responses=_ERRORS)
async def deregister(registrationId: RegistrationId, bound: Registrations) -> ApiResult:
    """Deregister a registrant that registered without a sideKey."""
    registration_id = check_registration_id(registrationId)
    row = await _existing(bound.store, registration_id)
    if row.side_key:
        raise EnergyApiError(
            403,
            f"Registration '{registration_id}' has a sideKey: "
            "deregister with DELETE /registration/{registrationId}/{sideKey}.",
        )
    await bound.rules.on_deregister(row)
    await run_db(bound.store.delete, registration_id)
    return ApiResult(success=True, message="OK")


def registration_router(
    store: RegistrationStore, handler: RegistrationHandler | None = None
) -> APIRouter:
    """The three registration routes over ``store``, with ``handler``'s extra rules."""
    bound = APIRouter()
    registrations = _Registrations(store, handler or _AcceptAll())
    bound.include_router(router, dependencies=[provide("energy_registrations", registrations)])
    return bound


def _seed_shape(status: int, message: str, errors: list[dict[str, Any]]) -> dict[str, Any]:
    if errors:
        first = errors[0]
        loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "path", "query")]
        name = ".".join(loc) or "body"
        message = f"The parameter '{name}' has an invalid value: {first.get('msg', 'invalid')}."
    return {"success": False, "message": message}


def install_energy_error_handlers(app: FastAPI) -> None:
    """Every error of the app in the seed's body: validation (422), EnergyApiError and
    HTTP errors such as an unknown route (404) or method (405)."""
    install_error_handlers(app, _seed_shape)

    async def energy_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, EnergyApiError)
        return AsciiJSONResponse({"success": False, "message": exc.message}, exc.status)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return AsciiJSONResponse(
            {"success": False, "message": str(exc.detail)},
            exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    app.add_exception_handler(EnergyApiError, energy_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
