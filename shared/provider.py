"""A seed-000 energy provider: the whole of services/wind and services/solar.

A provider is a machine (shared.machine) that robots pay in IOTA for energy orders and,
given PRODUCER_URL, a seed-001 source of its kind (shared.energy.source). Wind and solar
differ only in their settings' defaults and the kind of source they simulate, so both are
this one factory (docs/providers.md).
"""

from __future__ import annotations

import socketio

from shared.energy.source import EnergySourceSettings, SourceKind, attach_source
from shared.machine.app import create_machine_app
from shared.machine.processor import MachineConfig

__all__ = ["create_provider_app"]


def create_provider_app(settings: EnergySourceSettings, kind: SourceKind) -> socketio.ASGIApp:
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
        description=f"A {kind} energy provider paid in IOTA by robots for each order.",
    )
    return attach_source(machine, settings, kind)
