"""The EV charger's app: a seed-000 order provider (shared/provider.py) whose work is
charging a robot."""

from __future__ import annotations

import socketio

from services.charger.settings import ChargerSettings
from shared.provider import create_order_provider

__all__ = ["create_app"]


def create_app(settings: ChargerSettings) -> socketio.ASGIApp:
    return create_order_provider(
        settings, description="An EV charger that sells charging time to robots, paid in IOTA."
    )
