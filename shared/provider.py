"""A seed-000 provider: the whole of services/wind, services/solar and services/charger.

A provider is a machine (shared.machine) that robots pay in IOTA for orders: a robot whose
PROVIDER_URL names it places an energy order (``POST /energy-orders``) and pays its share
to the order's address; the provider works for WORK_SECONDS once the payment is confirmed.
:func:`create_order_provider` builds one from any ``MachineSettings`` (the EV charger of
docs/adding-a-machine.md). Wind and solar are also, given PRODUCER_URL, a seed-001 source
of their kind (shared.energy.source) and differ only in their settings' defaults and the
kind of source they simulate, so both are :func:`create_provider_app` (docs/providers.md).
Their settings are here too, so that a fleet (services/fleet) hosts providers without
importing another service.
"""

from __future__ import annotations

from typing import Any

import socketio
from pydantic import Field

from shared.energy.source import EnergySourceSettings, SourceKind, attach_source
from shared.machine.settings import NAME_PATTERN, MachineSettings

__all__ = ["SolarSettings", "WindSettings", "create_order_provider", "create_provider_app"]


class _ProviderSettings(EnergySourceSettings):
    """MachineSettings; PRICE is the least an energy order must pay. With PRODUCER_URL the
    machine is also a seed-001 source (EnergySourceSettings)."""

    price: int = Field(1, gt=0, description="minimum amount of an energy order in iota")
    work_seconds: float = Field(2.0, ge=0, le=3600, description="time to deliver the energy")


class WindSettings(_ProviderSettings):
    """A wind turbine's: its name, port and rated power."""

    name: str = Field("wind", min_length=1, max_length=64, pattern=NAME_PATTERN)
    port: int = Field(3001, ge=1, le=65535)
    capacity_kw: float = Field(5.0, gt=0, le=1e6, description="rated power in kW")


class SolarSettings(_ProviderSettings):
    """Solar panels': their name, port and peak power."""

    name: str = Field("solar", min_length=1, max_length=64, pattern=NAME_PATTERN)
    port: int = Field(3003, ge=1, le=65535)
    capacity_kw: float = Field(4.0, gt=0, le=1e6, description="peak power in kW")


def create_order_provider(
    settings: MachineSettings, *, description: str, **options: Any
) -> socketio.ASGIApp:
    """A provider robots order from and pay (POST /energy-orders): PRICE the least an order
    pays, WORK_SECONDS the work it does for one; ``description`` heads its OpenAPI page,
    ``options`` go to :func:`create_machine_app` (a fleet shares the node feed, the node
    probe and the node client through them)."""
    # Imported here, not at the top: a service's __main__ imports its settings (this module)
    # before logging is configured, and the machine app imports PyOTA, whose import-time
    # warning must reach the log in the documented format (shared/service_main.py).
    from shared.machine.app import create_machine_app
    from shared.machine.processor import MachineConfig

    config = MachineConfig.from_settings(settings, "energy")
    return create_machine_app(
        settings, role="provider", config=config, description=description, **options
    )


def create_provider_app(
    settings: EnergySourceSettings, kind: SourceKind, **options: Any
) -> socketio.ASGIApp:
    """Wind or solar: an order provider that is also a seed-001 source of ``kind``."""
    description = f"A {kind} energy provider paid in IOTA by robots for each order."
    machine = create_order_provider(settings, description=description, **options)
    return attach_source(machine, settings, kind)
