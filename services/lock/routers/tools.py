"""Tools: machines behind a lock of a device, with the live state seen on MQTT."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import select

from services.lock.controller import Controller
from services.lock.db import Circle, Tool
from services.lock.deps import (
    R401,
    R403,
    R404,
    R409,
    RBODY,
    RGATEWAY,
    AccountDep,
    AdminDep,
    ControllerDep,
    IdPath,
    SessionDep,
)
from services.lock.schemas import PricingIn, ToolIn, ToolOut
from services.lock.views import add_new, get_tool, record, tool_out
from shared.db import run_db
from shared.mqtt.client import MqttError
from shared.mqtt.topics import TopicError, device_prefix

router = APIRouter(tags=["tools"])


def _create(controller: Controller, body: ToolIn, prefix: str, admin_id: int) -> ToolOut:
    with controller.sessions() as session:
        if body.circle_id is not None and session.get(Circle, body.circle_id) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no circle {body.circle_id}")
        tool = Tool(**body.model_dump(exclude={"device_prefix"}), device_prefix=prefix)
        add_new(session, tool, f"tool {body.name!r} or lock {body.lock_index} of {prefix}")
        record(session, "tool_created", account_id=admin_id, tool_id=tool.id, detail=tool.name)
        session.commit()
        return tool_out(session, controller.link, tool)


@router.post(
    "/tools",
    response_model=ToolOut,
    status_code=201,
    responses={**RBODY, **R401, **R403, **R404, **R409},
)
async def create_tool(body: ToolIn, admin: AdminDep, controller: ControllerDep) -> ToolOut:
    """Register a tool behind lock ``lock_index`` of the device at ``device_prefix`` (admin).

    Without ``device_prefix`` the device's prefix is ``{MQTT_PREFIX}/{device_id}``.
    """
    try:
        prefix = body.device_prefix or device_prefix(
            controller.settings.mqtt_prefix, body.device_id
        )
    except TopicError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(error)) from None
    out = await run_db(_create, controller, body, prefix, admin.id)
    await controller.link.watch(prefix)
    return out


@router.get("/tools", response_model=list[ToolOut])
def list_tools(controller: ControllerDep, session: SessionDep) -> list[ToolOut]:
    """Every tool with its holder and the live device and lock state from MQTT."""
    return [tool_out(session, controller.link, t) for t in session.scalars(select(Tool))]


@router.get("/tools/{tool_id}", response_model=ToolOut, responses=R404)
def get_one(tool_id: IdPath, controller: ControllerDep, session: SessionDep) -> ToolOut:
    """One tool with live state."""
    return tool_out(session, controller.link, get_tool(session, tool_id))


def _prefix_of(controller: Controller, tool_id: int) -> tuple[str, str]:
    with controller.sessions() as session:
        tool = get_tool(session, tool_id)
        return tool.device_prefix, tool.device_id


@router.post("/tools/{tool_id}/refresh", status_code=202, responses={**R401, **R404, **RGATEWAY})
async def refresh(
    tool_id: IdPath, account: AccountDep, controller: ControllerDep
) -> dict[str, str]:
    """Ask the tool's device to republish all its lock states."""
    prefix, device_id = await run_db(_prefix_of, controller, tool_id)
    try:
        await controller.link.refresh(prefix)
    except MqttError as error:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(error)) from None
    return {"status": "refresh requested", "device_id": device_id, "device_prefix": prefix}


def _set_pricing(controller: Controller, tool_id: int, body: PricingIn, admin_id: int) -> ToolOut:
    with controller.sessions() as session:
        tool = get_tool(session, tool_id)
        tool.pricing = body.pricing
        tool.price_per_minute = body.price_per_minute
        tool.min_minutes = body.min_minutes
        record(
            session,
            "pricing_set",
            account_id=admin_id,
            tool_id=tool.id,
            detail=f"{body.pricing} {body.price_per_minute}/min, min {body.min_minutes} min",
        )
        session.commit()
        return tool_out(session, controller.link, tool)


@router.put(
    "/tools/{tool_id}/pricing",
    response_model=ToolOut,
    responses={**RBODY, **R401, **R403, **R404},
)
async def set_pricing(
    tool_id: IdPath, body: PricingIn, admin: AdminDep, controller: ControllerDep
) -> ToolOut:
    """Make a tool free, member-only or paid by the minute (admin).

    A paid session in progress keeps the minutes it bought; later payments buy at the new
    price. Paid tools are sold over payment channels (docs/lock.md, "Pay-per-use").
    """
    return await run_db(_set_pricing, controller, tool_id, body, admin.id)
