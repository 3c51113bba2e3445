"""The robot's app factory."""

from __future__ import annotations

import socketio

from services.robot.settings import RobotSettings
from shared.machine.app import create_machine_app
from shared.machine.processor import MachineConfig
from shared.machine.provider_link import HttpProviderLink

__all__ = ["create_app"]


def create_app(settings: RobotSettings) -> socketio.ASGIApp:
    config = MachineConfig(
        name=settings.name,
        kind="product",
        price=settings.price,
        work_seconds=settings.work_seconds,
        order_timeout=settings.order_timeout,
        max_queue=settings.max_queue,
        poll_interval=settings.poll_interval,
        provider_share=settings.provider_share,
        payout_timeout=settings.payout_timeout,
    )
    token = settings.machine_token.get_secret_value() if settings.machine_token else None
    provider = HttpProviderLink(settings.provider_url, settings.iota_node_url, token=token)
    return create_machine_app(
        settings,
        role="robot",
        config=config,
        provider=provider,
        description="A robot that is paid in IOTA for each order and pays its energy provider.",
    )
