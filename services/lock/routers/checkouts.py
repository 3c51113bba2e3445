"""Checkouts: check a tool out (unlock, await the device's echo) and in again (lock).

The database work is done in short sessions in worker threads before and after the command;
no session is held while the controller waits (up to COMMAND_TIMEOUT) for the device.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import select

from services.lock.controller import Controller
from services.lock.db import Account, Checkout, Circle, Membership, utc, utcnow
from services.lock.deps import R401, R403, R404, R409, RGATEWAY, AccountDep, ControllerDep, IdPath
from services.lock.link import CommandFailed, CommandTimeout, Echo
from services.lock.policy import checkout_refusal
from services.lock.schemas import CheckoutOut
from services.lock.views import circles_of, get_tool, is_admin, record, tool_out
from shared.db import run_db
from shared.mqtt.client import MqttError

router = APIRouter(tags=["checkouts"])


@dataclass(frozen=True)
class _ToolRef:
    """What a command needs to know about a tool, read in a short session."""

    id: int
    name: str
    device_prefix: str
    device_id: str
    lock_index: int


def _load(controller: Controller, tool_id: int) -> _ToolRef:
    with controller.sessions() as session:
        tool = get_tool(session, tool_id)
        return _ToolRef(tool.id, tool.name, tool.device_prefix, tool.device_id, tool.lock_index)


def _record(controller: Controller, kind: str, account_id: int, tool_id: int, detail: str) -> None:
    with controller.sessions() as session:
        record(session, kind, account_id=account_id, tool_id=tool_id, detail=detail)
        session.commit()


async def _command(controller: Controller, tool: _ToolRef, account: Account, command: str) -> Echo:
    """Send lock/unlock to the tool's lock and wait for the echo; HTTP errors otherwise."""
    link = controller.link
    device = link.device(tool.device_prefix, tool.device_id)
    if not controller.mqtt.connected:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "not connected to the broker")
    if device is not None and device.online is False:
        await run_db(
            _record, controller, f"{command}_failed", account.id, tool.id, "device offline"
        )
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, f"device {tool.device_id} is offline"
        )
    timeout = controller.settings.command_timeout
    try:
        return await link.command(tool.device_prefix, tool.lock_index, command, timeout)
    except (CommandFailed, MqttError) as error:
        await run_db(_record, controller, f"{command}_failed", account.id, tool.id, str(error))
        if command == "unlock" and isinstance(error, CommandTimeout):
            # A late unlock must not leave the machine open for nobody: ask for lock.
            with contextlib.suppress(MqttError, CommandFailed):
                await link.command(tool.device_prefix, tool.lock_index, "lock", 0.001)
        code = (
            status.HTTP_504_GATEWAY_TIMEOUT
            if isinstance(error, CommandTimeout)
            else status.HTTP_502_BAD_GATEWAY
        )
        raise HTTPException(code, str(error)) from None


def _check_may_checkout(controller: Controller, tool_id: int, account: Account) -> _ToolRef:
    """The tool, or 404; 403 (recorded) without the tool's circle or an active membership."""
    with controller.sessions() as session:
        tool = get_tool(session, tool_id)
        circle = session.get(Circle, tool.circle_id) if tool.circle_id is not None else None
        periods = [
            (utc(m.starts_at), utc(m.ends_at))
            for m in session.scalars(select(Membership).where(Membership.account_id == account.id))
        ]
        refusal = checkout_refusal(
            tool_circle=circle.name if circle else None,
            account_circles=circles_of(session, account.id),
            memberships=periods,
            now=utcnow(),
            pricing=tool.pricing,
        )
        if refusal is not None:
            record(
                session, "checkout_refused", account_id=account.id, tool_id=tool.id, detail=refusal
            )
            session.commit()
            raise HTTPException(status.HTTP_403_FORBIDDEN, refusal)
        return _ToolRef(tool.id, tool.name, tool.device_prefix, tool.device_id, tool.lock_index)


def _finish_checkout(
    controller: Controller, ref: _ToolRef, account: Account, echo: Echo
) -> CheckoutOut:
    """Record the confirmed unlock: the caller holds the tool (a previous holder is checked in)."""
    with controller.sessions() as session:
        tool = get_tool(session, ref.id)
        previous = session.get(Checkout, tool.id)
        took_over = None
        if previous is not None and previous.account_id != account.id:
            other = session.get(Account, previous.account_id)
            took_over = other.username if other else None
            record(
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
            session.add(Checkout(tool_id=tool.id, account_id=account.id, request_id=echo.request))
        record(
            session,
            "checkout",
            account_id=account.id,
            tool_id=tool.id,
            request_id=echo.request,
            detail=f"unlocked {tool.name}",
        )
        session.commit()
        return CheckoutOut(
            tool=tool_out(session, controller.link, tool),
            state=echo.state,
            request=echo.request,
            confirmed_in_ms=round(echo.seconds * 1000, 3),
            took_over_from=took_over,
        )


@router.post(
    "/tools/{tool_id}/checkout",
    response_model=CheckoutOut,
    responses={**R401, **R403, **R404, **R409, **RGATEWAY},
)
async def checkout(tool_id: IdPath, account: AccountDep, controller: ControllerDep) -> CheckoutOut:
    """Check a tool out: refuse without circle/membership, else unlock and await the echo."""
    tool = await run_db(_check_may_checkout, controller, tool_id, account)
    async with controller.tool_lock(tool.id):
        echo = await _command(controller, tool, account, "unlock")
        return await run_db(_finish_checkout, controller, tool, account, echo)


def _check_may_checkin(controller: Controller, tool_id: int, account: Account) -> None:
    with controller.sessions() as session:
        tool = get_tool(session, tool_id)
        current = session.get(Checkout, tool.id)
        if current is None:
            raise HTTPException(status.HTTP_409_CONFLICT, f"tool {tool.name} is not checked out")
        if current.account_id != account.id and not is_admin(session, controller.settings, account):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"tool {tool.name} is held by someone else"
            )


def _finish_checkin(
    controller: Controller, ref: _ToolRef, account: Account, echo: Echo
) -> CheckoutOut:
    with controller.sessions() as session:
        tool = get_tool(session, ref.id)
        current = session.get(Checkout, tool.id)
        if current is not None:
            session.delete(current)
        record(
            session,
            "checkin",
            account_id=account.id,
            tool_id=tool.id,
            request_id=echo.request,
            detail=f"locked {tool.name}",
        )
        session.commit()
        return CheckoutOut(
            tool=tool_out(session, controller.link, tool),
            state=echo.state,
            request=echo.request,
            confirmed_in_ms=round(echo.seconds * 1000, 3),
        )


@router.post(
    "/tools/{tool_id}/checkin",
    response_model=CheckoutOut,
    responses={**R401, **R403, **R404, **R409, **RGATEWAY},
)
async def checkin(tool_id: IdPath, account: AccountDep, controller: ControllerDep) -> CheckoutOut:
    """Check a tool in (its holder or an admin): lock it and await the echo."""
    tool = await run_db(_load, controller, tool_id)
    async with controller.tool_lock(tool.id):
        # Checked under the tool's lock: a concurrent checkout or checkin has finished.
        await run_db(_check_may_checkin, controller, tool_id, account)
        echo = await _command(controller, tool, account, "lock")
        return await run_db(_finish_checkin, controller, tool, account, echo)
