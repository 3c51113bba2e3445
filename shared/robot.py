"""A seed-000 robot: the whole of services/robot, here so that a fleet (services/fleet) can
host robots too without one service importing another.

A robot is a machine (shared.machine) that customers pay in IOTA for each order over
Socket.IO and that pays its energy provider a share of each price (docs/robot.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from shared.machine.settings import NAME_PATTERN, MachineSettings

if TYPE_CHECKING:
    import socketio

    from shared.machine.provider_link import HttpProviderLink

__all__ = ["RobotSettings", "create_robot_app"]


class RobotSettings(MachineSettings):
    """MachineSettings plus the energy provider this robot pays for each order."""

    name: str = Field("robot 1", min_length=1, max_length=64, pattern=NAME_PATTERN)
    port: int = Field(3000, ge=1, le=65535)
    price: int = Field(100, gt=0, description="price of one product in iota")
    provider_url: str = Field("http://localhost:3001", pattern=r"^https?://")
    provider_share: float = Field(0.1, gt=0, le=1, description="part of the price paid out")
    payout_timeout: float = Field(120.0, gt=0, le=86400)


def create_robot_app(
    settings: RobotSettings, *, provider: HttpProviderLink | None = None, **options: Any
) -> socketio.ASGIApp:
    """The robot's ASGI app. ``provider``: its link to the energy provider (default: one of
    its own on PROVIDER_URL); ``options`` go to :func:`create_machine_app` (a fleet shares
    the node feed, the node probe and the HTTP clients among its machines through them)."""
    # Imported here: the settings above are imported by __main__ before logging is
    # configured, and the machine app imports PyOTA (see shared/provider.py).
    from shared.machine.app import create_machine_app
    from shared.machine.processor import MachineConfig
    from shared.machine.provider_link import HttpProviderLink

    config = MachineConfig.from_settings(
        settings,
        "product",
        provider_share=settings.provider_share,
        payout_timeout=settings.payout_timeout,
    )
    if provider is None:
        token = settings.machine_token.get_secret_value() if settings.machine_token else None
        provider = HttpProviderLink(settings.provider_url, settings.iota_node_url, token=token)
    return create_machine_app(
        settings,
        role="robot",
        config=config,
        provider=provider,
        description="A robot that is paid in IOTA for each order and pays its energy provider.",
        **options,
    )
