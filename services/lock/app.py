"""The lock controller (p2k16's role): members, circles, tools, checkout -> MQTT -> echo."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from services.lock import db
from services.lock.db import (
    Account,
    Checkout,
    Circle,
    CircleMember,
    Event,
    Membership,
    Token,
    Tool,
    utc,
    utcnow,
)
from services.lock.link import CommandFailed, CommandTimeout, LockLink
from services.lock.policy import checkout_refusal
from services.lock.schemas import (
    MAX_ID,
    AccountIn,
    AccountOut,
    CheckoutOut,
    CircleIn,
    CircleOut,
    EventOut,
    MemberIn,
    MembershipIn,
    MembershipOut,
    TokenOut,
    ToolIn,
    ToolOut,
)
from services.lock.settings import LockSettings
from shared.auth import (
    DUMMY_HASH,
    hash_password,
    new_token,
    token_digest,
    verify_password,
)
from shared.mqtt.client import MqttClient, MqttError

__all__ = ["create_app"]

log = logging.getLogger("services.lock")


class Controller:
    """Everything the routes share: settings, database, MQTT link, per-tool command locks."""

    def __init__(self, settings: LockSettings) -> None:
        self.settings = settings
        if settings.database_url is None:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.engine = db.make_engine(settings.database())
        self.sessions: sessionmaker[Session] = db.make_sessions(self.engine)
        self.mqtt = MqttClient(settings.broker, client_id=f"lock-controller-{settings.name}")
        self.link = LockLink(self.mqtt, settings.mqtt_prefix)
        self._tool_locks: dict[int, asyncio.Lock] = {}

    def tool_lock(self, tool_id: int) -> asyncio.Lock:
        return self._tool_locks.setdefault(tool_id, asyncio.Lock())

    def bootstrap_admin(self) -> None:
        """Make sure the admin circle exists and LOCK_ADMIN_USERNAME is in it."""
        s = self.settings
        with self.sessions() as session:
            circle = session.scalar(select(Circle).where(Circle.name == s.lock_admin_circle))
            if circle is None:
                circle = Circle(name=s.lock_admin_circle, description="manages everything")
                session.add(circle)
                session.flush()
            if s.lock_admin_password is None:
                session.commit()
                return
            password = s.lock_admin_password.get_secret_value()
            admin = session.scalar(select(Account).where(Account.username == s.lock_admin_username))
            if admin is None:
                admin = Account(
                    username=s.lock_admin_username, password_hash=hash_password(password)
                )
                session.add(admin)
                session.flush()
                log.info("event=admin_created username=%s", admin.username)
            elif not verify_password(password, admin.password_hash):
                # The environment is the source of truth for the admin password.
                admin.password_hash = hash_password(password)
                log.info("event=admin_password_reset username=%s", admin.username)
            if session.get(CircleMember, (circle.id, admin.id)) is None:
                session.add(CircleMember(circle_id=circle.id, account_id=admin.id))
            session.commit()


def _controller(request: Request) -> Controller:
    return request.app.state.controller


ControllerDep = Annotated[Controller, Depends(_controller)]


def _session(controller: ControllerDep) -> Iterator[Session]:
    with controller.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(_session)]

_UNAUTHORIZED = HTTPException(
    status.HTTP_401_UNAUTHORIZED,
    "valid credentials required (HTTP Basic or Bearer token)",
    headers={"WWW-Authenticate": 'Basic realm="lock", Bearer'},
)


async def _account(request: Request, session: SessionDep) -> Account:
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials:
        token = session.get(Token, token_digest(credentials.strip()))
        if token is None or utc(token.expires_at) <= utcnow():
            raise _UNAUTHORIZED
        account = session.get(Account, token.account_id)
        if account is None:
            raise _UNAUTHORIZED
        return account
    if scheme.lower() == "basic" and credentials:
        try:
            username, sep, password = (
                base64.b64decode(credentials, validate=True).decode("utf-8").partition(":")
            )
        except (binascii.Error, UnicodeDecodeError):
            raise _UNAUTHORIZED from None
        if not sep:
            raise _UNAUTHORIZED
        account = session.scalar(select(Account).where(Account.username == username))
        stored = account.password_hash if account is not None else DUMMY_HASH
        # scrypt takes tens of ms; keep the event loop serving MQTT meanwhile.
        ok = await asyncio.to_thread(verify_password, password, stored)
        if account is None or not ok:
            raise _UNAUTHORIZED
        return account
    raise _UNAUTHORIZED


AccountDep = Annotated[Account, Depends(_account)]
# Ids beyond the database's integer range are refused with 422 instead of crashing the driver.
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]


def _circles_of(session: Session, account_id: int) -> list[str]:
    rows = session.scalars(
        select(Circle.name)
        .join(CircleMember, CircleMember.circle_id == Circle.id)
        .where(CircleMember.account_id == account_id)
    )
    return sorted(rows)


def _is_admin(session: Session, controller: Controller, account: Account) -> bool:
    return controller.settings.lock_admin_circle in _circles_of(session, account.id)


def _admin(controller: ControllerDep, session: SessionDep, account: AccountDep) -> Account:
    if not _is_admin(session, controller, account):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"only members of circle {controller.settings.lock_admin_circle!r} may do this",
        )
    return account


AdminDep = Annotated[Account, Depends(_admin)]


def _record(session: Session, kind: str, **fields: Any) -> None:
    session.add(Event(kind=kind, **fields))
    log.info(
        "event=%s %s",
        kind,
        " ".join(f"{k}={v}" for k, v in fields.items() if k != "detail" and v is not None),
    )


def _active(session: Session, account_id: int) -> bool:
    now = utcnow()
    for m in session.scalars(select(Membership).where(Membership.account_id == account_id)):
        if utc(m.starts_at) <= now < utc(m.ends_at):
            return True
    return False


def _account_out(session: Session, account: Account) -> AccountOut:
    return AccountOut(
        id=account.id,
        username=account.username,
        circles=_circles_of(session, account.id),
        active_membership=_active(session, account.id),
    )


def _tool_out(session: Session, controller: Controller, tool: Tool) -> ToolOut:
    checkout = session.get(Checkout, tool.id)
    holder = session.get(Account, checkout.account_id) if checkout else None
    circle = session.get(Circle, tool.circle_id) if tool.circle_id is not None else None
    device = controller.link.devices.get(tool.device_id)
    lock = device.locks.get(tool.lock_index) if device else None
    return ToolOut(
        id=tool.id,
        name=tool.name,
        description=tool.description,
        device_id=tool.device_id,
        lock_index=tool.lock_index,
        circle=circle.name if circle else None,
        holder=holder.username if holder else None,
        checked_out_at=utc(checkout.checked_out_at) if checkout else None,
        device_online=device.online if device else None,
        device_name=device.name if device else None,
        lock_state=lock.state if lock else None,
        lock_request=lock.request if lock else None,
    )


def _get_tool(session: Session, tool_id: int) -> Tool:
    tool = session.get(Tool, tool_id)
    if tool is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no tool {tool_id}")
    return tool


def _conflict(session: Session, what: str) -> HTTPException:
    session.rollback()
    return HTTPException(status.HTTP_409_CONFLICT, f"{what} already exists")


class AsciiJSONResponse(JSONResponse):
    """JSON with non-ASCII escaped: a lone surrogate echoed from the input stays encodable."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


async def _validation_error(request: Request, exc: Exception) -> AsciiJSONResponse:
    # FastAPI's default 422 echoes the input; with a lone surrogate ("\ud800" in the JSON)
    # its UTF-8 rendering raised and the client got a bare 500 instead of the 422.
    assert isinstance(exc, RequestValidationError)
    return AsciiJSONResponse({"detail": jsonable_encoder(exc.errors())}, status_code=422)


def create_app(settings: LockSettings) -> FastAPI:
    """Build the lock controller; the lifespan owns the database and the MQTT connection."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        controller = Controller(settings)
        controller.bootstrap_admin()
        app.state.controller = controller
        await controller.mqtt.start()
        task = asyncio.create_task(controller.link.run(), name="lock-link")
        log.info("event=lock_controller_start broker=%s", settings.broker.redacted())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await controller.mqtt.close()
            controller.engine.dispose()
            log.info("event=lock_controller_stop")

    app = FastAPI(
        title="Lock controller",
        description="Who may use which machine; unlocks lock devices over MQTT (seed 004).",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.add_exception_handler(RequestValidationError, _validation_error)

    @app.get("/")
    def root(controller: ControllerDep) -> dict[str, str]:
        """Service name and status."""
        return {
            "name": settings.name,
            "status": "ok" if controller.mqtt.connected else "broker-disconnected",
        }

    @app.get("/health")
    def health(controller: ControllerDep, session: SessionDep) -> dict[str, Any]:
        """Database and broker health."""
        session.execute(select(1))
        return {"status": "ok", "database": "ok", "broker_connected": controller.mqtt.connected}

    @app.post("/auth/token", response_model=TokenOut)
    def token(controller: ControllerDep, session: SessionDep, account: AccountDep) -> TokenOut:
        """Trade HTTP Basic credentials for a bearer token (fast to check on every call)."""
        raw = new_token()
        expires = utcnow() + timedelta(seconds=settings.lock_token_ttl_seconds)
        session.add(Token(token_hash=token_digest(raw), account_id=account.id, expires_at=expires))
        session.commit()
        return TokenOut(access_token=raw, expires_at=expires)

    @app.get("/me", response_model=AccountOut)
    def me(session: SessionDep, account: AccountDep) -> AccountOut:
        """The calling account."""
        return _account_out(session, account)

    # -- administration ------------------------------------------------------------------
    @app.post("/accounts", response_model=AccountOut, status_code=201)
    def create_account(body: AccountIn, session: SessionDep, admin: AdminDep) -> AccountOut:
        """Create an account (admin)."""
        account = Account(username=body.username, password_hash=hash_password(body.password))
        session.add(account)
        try:
            session.flush()
        except IntegrityError:
            raise _conflict(session, f"account {body.username!r}") from None
        _record(session, "account_created", account_id=admin.id, detail=body.username)
        session.commit()
        return _account_out(session, account)

    @app.get("/accounts", response_model=list[AccountOut])
    def list_accounts(session: SessionDep, admin: AdminDep) -> list[AccountOut]:
        """All accounts (admin)."""
        return [_account_out(session, a) for a in session.scalars(select(Account))]

    @app.post("/accounts/{account_id}/memberships", response_model=MembershipOut, status_code=201)
    def add_membership(
        account_id: IdPath, body: MembershipIn, session: SessionDep, admin: AdminDep
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
        _record(session, "membership_added", account_id=account_id, detail=f"{body.days} days")
        session.commit()
        return MembershipOut(
            id=m.id, account_id=account_id, starts_at=utc(m.starts_at), ends_at=utc(m.ends_at)
        )

    def _circle_out(session: Session, circle: Circle) -> CircleOut:
        members = session.scalars(
            select(Account.username)
            .join(CircleMember, CircleMember.account_id == Account.id)
            .where(CircleMember.circle_id == circle.id)
        )
        return CircleOut(
            id=circle.id, name=circle.name, description=circle.description, members=sorted(members)
        )

    @app.post("/circles", response_model=CircleOut, status_code=201)
    def create_circle(body: CircleIn, session: SessionDep, admin: AdminDep) -> CircleOut:
        """Create a circle (admin)."""
        circle = Circle(name=body.name, description=body.description)
        session.add(circle)
        try:
            session.flush()
        except IntegrityError:
            raise _conflict(session, f"circle {body.name!r}") from None
        _record(session, "circle_created", account_id=admin.id, detail=body.name)
        session.commit()
        return _circle_out(session, circle)

    @app.get("/circles", response_model=list[CircleOut])
    def list_circles(session: SessionDep, account: AccountDep) -> list[CircleOut]:
        """All circles and their members."""
        return [_circle_out(session, c) for c in session.scalars(select(Circle))]

    @app.post("/circles/{circle_id}/members", response_model=CircleOut, status_code=201)
    def add_member(
        circle_id: IdPath, body: MemberIn, session: SessionDep, admin: AdminDep
    ) -> CircleOut:
        """Add an account to a circle (admin)."""
        circle = session.get(Circle, circle_id)
        if circle is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no circle {circle_id}")
        if session.get(Account, body.account_id) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no account {body.account_id}")
        if session.get(CircleMember, (circle_id, body.account_id)) is None:
            session.add(CircleMember(circle_id=circle_id, account_id=body.account_id))
            _record(session, "member_added", account_id=body.account_id, detail=circle.name)
            session.commit()
        return _circle_out(session, circle)

    @app.delete("/circles/{circle_id}/members/{account_id}", response_model=CircleOut)
    def remove_member(
        circle_id: IdPath, account_id: IdPath, session: SessionDep, admin: AdminDep
    ) -> CircleOut:
        """Remove an account from a circle (admin)."""
        circle = session.get(Circle, circle_id)
        member = session.get(CircleMember, (circle_id, account_id))
        if circle is None or member is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such circle membership")
        session.delete(member)
        _record(session, "member_removed", account_id=account_id, detail=circle.name)
        session.commit()
        return _circle_out(session, circle)

    @app.post("/tools", response_model=ToolOut, status_code=201)
    def create_tool(
        body: ToolIn, controller: ControllerDep, session: SessionDep, admin: AdminDep
    ) -> ToolOut:
        """Register a tool behind a device lock (admin)."""
        if body.circle_id is not None and session.get(Circle, body.circle_id) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no circle {body.circle_id}")
        tool = Tool(**body.model_dump())
        session.add(tool)
        try:
            session.flush()
        except IntegrityError:
            raise _conflict(
                session, f"tool {body.name!r} or lock {body.device_id}/{body.lock_index}"
            ) from None
        _record(session, "tool_created", account_id=admin.id, tool_id=tool.id, detail=tool.name)
        session.commit()
        return _tool_out(session, controller, tool)

    # -- tools ---------------------------------------------------------------------------
    @app.get("/tools", response_model=list[ToolOut])
    def list_tools(controller: ControllerDep, session: SessionDep) -> list[ToolOut]:
        """Every tool with its holder and the live device and lock state from MQTT."""
        return [_tool_out(session, controller, t) for t in session.scalars(select(Tool))]

    @app.get("/tools/{tool_id}", response_model=ToolOut)
    def get_tool(tool_id: IdPath, controller: ControllerDep, session: SessionDep) -> ToolOut:
        """One tool with live state."""
        return _tool_out(session, controller, _get_tool(session, tool_id))

    async def _command(
        controller: Controller, session: Session, tool: Tool, account: Account, command: str
    ) -> Any:
        device = controller.link.devices.get(tool.device_id)
        if not controller.mqtt.connected:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "not connected to the broker")
        if device is not None and device.online is False:
            _record(
                session,
                f"{command}_failed",
                account_id=account.id,
                tool_id=tool.id,
                detail="device offline",
            )
            session.commit()
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, f"device {tool.device_id} is offline"
            )
        try:
            return await controller.link.command(
                tool.device_id, tool.lock_index, command, settings.command_timeout
            )
        except (CommandFailed, MqttError) as error:
            _record(
                session,
                f"{command}_failed",
                account_id=account.id,
                tool_id=tool.id,
                detail=str(error),
            )
            session.commit()
            if command == "unlock" and isinstance(error, CommandTimeout):
                # A late unlock must not leave the machine open for nobody: ask for lock.
                with contextlib.suppress(MqttError, CommandFailed):
                    await controller.link.command(tool.device_id, tool.lock_index, "lock", 0.001)
            code = (
                status.HTTP_504_GATEWAY_TIMEOUT
                if isinstance(error, CommandTimeout)
                else status.HTTP_502_BAD_GATEWAY
            )
            raise HTTPException(code, str(error)) from None

    @app.post("/tools/{tool_id}/checkout", response_model=CheckoutOut)
    async def checkout(
        tool_id: IdPath, controller: ControllerDep, session: SessionDep, account: AccountDep
    ) -> CheckoutOut:
        """Check a tool out: refuse without circle/membership, else unlock and await the echo."""
        tool = _get_tool(session, tool_id)
        circle = session.get(Circle, tool.circle_id) if tool.circle_id is not None else None
        periods = [
            (utc(m.starts_at), utc(m.ends_at))
            for m in session.scalars(select(Membership).where(Membership.account_id == account.id))
        ]
        refusal = checkout_refusal(
            tool_circle=circle.name if circle else None,
            account_circles=_circles_of(session, account.id),
            memberships=periods,
            now=utcnow(),
        )
        if refusal is not None:
            _record(
                session, "checkout_refused", account_id=account.id, tool_id=tool.id, detail=refusal
            )
            session.commit()
            raise HTTPException(status.HTTP_403_FORBIDDEN, refusal)
        async with controller.tool_lock(tool.id):
            echo = await _command(controller, session, tool, account, "unlock")
            previous = session.get(Checkout, tool.id)
            took_over = None
            if previous is not None and previous.account_id != account.id:
                other = session.get(Account, previous.account_id)
                took_over = other.username if other else None
                _record(
                    session,
                    "checkin",
                    account_id=previous.account_id,
                    tool_id=tool.id,
                    detail=f"taken over by {account.username}",
                )
                session.delete(previous)
                session.flush()
                previous = None
            if previous is None:
                session.add(
                    Checkout(tool_id=tool.id, account_id=account.id, request_id=echo.request)
                )
            _record(
                session,
                "checkout",
                account_id=account.id,
                tool_id=tool.id,
                request_id=echo.request,
                detail=f"unlocked {tool.name}",
            )
            session.commit()
        return CheckoutOut(
            tool=_tool_out(session, controller, tool),
            state=echo.state,
            request=echo.request,
            confirmed_in_ms=round(echo.seconds * 1000, 3),
            took_over_from=took_over,
        )

    @app.post("/tools/{tool_id}/checkin", response_model=CheckoutOut)
    async def checkin(
        tool_id: IdPath, controller: ControllerDep, session: SessionDep, account: AccountDep
    ) -> CheckoutOut:
        """Check a tool in (its holder or an admin): lock it and await the echo."""
        tool = _get_tool(session, tool_id)
        async with controller.tool_lock(tool.id):
            current = session.get(Checkout, tool.id)
            if current is None:
                raise HTTPException(
                    status.HTTP_409_CONFLICT, f"tool {tool.name} is not checked out"
                )
            if current.account_id != account.id and not _is_admin(session, controller, account):
                raise HTTPException(
                    status.HTTP_403_FORBIDDEN, f"tool {tool.name} is held by someone else"
                )
            echo = await _command(controller, session, tool, account, "lock")
            session.delete(current)
            _record(
                session,
                "checkin",
                account_id=account.id,
                tool_id=tool.id,
                request_id=echo.request,
                detail=f"locked {tool.name}",
            )
            session.commit()
        return CheckoutOut(
            tool=_tool_out(session, controller, tool),
            state=echo.state,
            request=echo.request,
            confirmed_in_ms=round(echo.seconds * 1000, 3),
        )

    @app.post("/tools/{tool_id}/refresh", status_code=202)
    async def refresh(
        tool_id: IdPath, controller: ControllerDep, session: SessionDep, account: AccountDep
    ) -> dict[str, str]:
        """Ask the tool's device to republish all its lock states."""
        tool = _get_tool(session, tool_id)
        try:
            await controller.link.refresh(tool.device_id)
        except MqttError as error:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(error)) from None
        return {"status": "refresh requested", "device_id": tool.device_id}

    @app.get("/events", response_model=list[EventOut])
    def events(
        session: SessionDep,
        account: AccountDep,
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

    return app
