"""The wind energy provider's app factory."""

from __future__ import annotations

import socketio

from services.wind.settings import ProviderSettings
from shared.energy.source import attach_source
from shared.machine.app import create_machine_app
from shared.machine.processor import MachineConfig

__all__ = ["create_app"]


def create_app(settings: ProviderSettings) -> socketio.ASGIApp:
    config = MachineConfig(
        name=settings.name,
        kind="energy",
        price=settings.price,
        work_seconds=settings.work_seconds,
        order_timeout=settings.order_timeout,
        max_queue=settings.max_queue,
        poll_interval=settings.poll_interval,
    )
    machine = create_machine_app(
        settings,
        role="provider",
        config=config,
        description="A wind energy provider paid in IOTA by robots for each order.",
    )
    return attach_source(machine, settings, "wind")
