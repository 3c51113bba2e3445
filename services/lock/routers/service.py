"""The service itself: name and status, health."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from services.lock.deps import ControllerDep, SessionDep

router = APIRouter(tags=["service"])


@router.get("/")
def root(controller: ControllerDep) -> dict[str, str]:
    """Service name and status."""
    return {
        "name": controller.settings.name,
        "status": "ok" if controller.mqtt.connected else "broker-disconnected",
    }


@router.get("/health")
def health(controller: ControllerDep, session: SessionDep) -> dict[str, Any]:
    """Database and broker health."""
    session.execute(select(1))
    return {"status": "ok", "database": "ok", "broker_connected": controller.mqtt.connected}
