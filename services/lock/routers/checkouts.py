"""Checkouts: check a tool out (unlock, await the device's echo) and in again (lock).

The database work is done in short sessions in worker threads before, during and after the
command; no session is held while the controller waits (up to COMMAND_TIMEOUT) for the device.

A checkout is written and committed *while* the device unlocks, not after its echo: with
``synchronous=FULL`` the commit waits for an fsync (0.5 ms on a quiet disk, 15 ms and more on
a shared busy one), and with the transaction's queries it came on top of the MQTT round trip
(docs/performance.md, "Lock"). The reply still waits for both, so a checkout answered 2xx is
on disk (it survives a SIGKILL); if the device does not confirm, the checkout is taken back
before the error is answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import select

from services.lock.controller import Controller
from services.lock.db import Account, Checkout, Circle, Event, Membership, utc, utcnow
from services.lock.deps import R401, R403, R404, R409, RGATEWAY, AccountDep, ControllerDep, IdPath
from services.lock.link import CommandFailed, CommandTimeout, Echo, new_request
from services.lock.policy import checkout_refusal
from services.lock.schemas import CheckoutOut, ToolOut
from services.lock.views import circles_of, get_tool, is_admin, live_fields, record, tool_out
from shared.db import run_db
from shared.mqtt.client import MqttError

router = APIRouter(tags=["checkouts"])

log = logging.getLogger("services.lock")


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


async def _reachable(
    controller: Controller, tool: _ToolRef, account: Account, command: str
) -> None:
    """503 (recorded for an offline device) when the command cannot reach the device."""
    device = controller.link.device(tool.device_prefix, tool.device_id)
    if not controller.mqtt.connected:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "not connected to the broker")
    if device is not None and device.online is False:
        await run_db(
            _record, controller, f"{command}_failed", account.id, tool.id, "device offline"
        )
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, f"device {tool.device_id} is offline"
        )


async def _command(
    controller: Controller,
    tool: _ToolRef,
    account: Account,
    command: str,
    request: str | None = None,
) -> Echo:
    """Send lock/unlock to the tool's lock and wait for the echo; HTTP errors otherwise."""
    link = controller.link
    await _reachable(controller, tool, account, command)
    timeout = controller.settings.command_timeout
    try:
        return await link.command(tool.device_prefix, tool.lock_index, command, timeout, request)
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


@dataclass(frozen=True)
class _Written:
    """A checkout as written before the echo, and what to put back if it is not confirmed."""

    tool: ToolOut  # the reply's tool; its live lock state is read again after the echo
    took_over_from: str | None
    replaced: tuple[int, datetime, str] | None  # the previous holder: account, since, request
    events: tuple[int, ...]


def _write_checkout(
    controller: Controller, ref: _ToolRef, account: Account, request: str
) -> _Written:
    """Commit the caller as the holder (a previous holder is checked in) of ``request``."""
    with controller.sessions() as session:
        tool = get_tool(session, ref.id)
        previous = session.get(Checkout, tool.id)
        took_over = None
        replaced = None
        events = []
        if previous is not None and previous.account_id != account.id:
            other = session.get(Account, previous.account_id)
            took_over = other.username if other else None
            replaced = (previous.account_id, previous.checked_out_at, previous.request_id)
            events.append(
                record(
                    session,
                    "checkin",
                    account_id=previous.account_id,
                    tool_id=tool.id,
                    detail=f"taken over by {account.username}",
                )
            )
            session.delete(previous)
            session.flush()
            previous = None
        if previous is None:
            session.add(Checkout(tool_id=tool.id, account_id=account.id, request_id=request))
        events.append(
            record(
                session,
                "checkout",
                account_id=account.id,
                tool_id=tool.id,
                request_id=request,
                detail=f"unlocked {tool.name}",
            )
        )
        session.commit()
        return _Written(
            tool=tool_out(session, controller.link, tool),
            took_over_from=took_over,
            replaced=replaced,
            events=tuple(event.id for event in events),
        )


def _take_back(controller: Controller, ref: _ToolRef, request: str, written: _Written) -> None:
    """Undo a checkout the device did not confirm: its holder row and events go, a holder it
    took the tool over from is back (the ``unlock_failed`` event tells what happened)."""
    with controller.sessions() as session:
        current = session.get(Checkout, ref.id)
        if current is not None and current.request_id == request:
            session.delete(current)
            session.flush()
            if written.replaced is not None:
                account_id, since, previous_request = written.replaced
                session.add(
                    Checkout(
                        tool_id=ref.id,
                        account_id=account_id,
                        checked_out_at=since,
                        request_id=previous_request,
                    )
                )
        for event_id in written.events:
            event = session.get(Event, event_id)
            if event is not None:
                session.delete(event)
        session.commit()


@router.post(
    "/tools/{tool_id}/checkout",
    response_model=CheckoutOut,
    responses={**R401, **R403, **R404, **R409, **RGATEWAY},
)
async def checkout(tool_id: IdPath, account: AccountDep, controller: ControllerDep) -> CheckoutOut:
    """Check a tool out: refuse without circle/membership, else unlock and await the echo."""
    tool = await run_db(_check_may_checkout, controller, tool_id, account)
    async with controller.tool_lock(tool.id):
        await _reachable(controller, tool, account, "unlock")
        request = new_request()
        # The commit (an fsync) runs while the unlock goes to the device and back; the reply
        # waits for both (the module's docstring says why).
        writing = asyncio.ensure_future(run_db(_write_checkout, controller, tool, account, request))
        try:
            echo = await _command(controller, tool, account, "unlock", request)
        except HTTPException:
            try:
                await run_db(_take_back, controller, tool, request, await writing)
            except Exception:  # the error the caller gets is the device's, not this one
                log.exception("event=checkout_take_back_failed tool=%d", tool.id)
            raise
        written = await writing
    return CheckoutOut(
        tool=written.tool.model_copy(
            update=live_fields(controller.link, tool.device_prefix, tool.device_id, tool.lock_index)
        ),
        state=echo.state,
        request=echo.request,
        confirmed_in_ms=round(echo.seconds * 1000, 3),
        took_over_from=written.took_over_from,
    )


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
