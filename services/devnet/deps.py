"""The devnet routes' dependencies, named once: the settings, what the lifespan built and
the faucet's bearer rule (the channel agent's routes have theirs beside them, in
services/devnet/channel_agent_host.py).

``create_app`` puts the settings on ``app.state``; the lifespan
adds :class:`DevnetRuntime` once the node is open. Routes take them through ``Depends``
instead of closing over ``create_app``'s locals, so they live in module-level routers.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from services.devnet.api import IriApi
from services.devnet.faucet import Faucet
from services.devnet.node import DevnetNode
from services.devnet.settings import DevnetSettings
from shared.auth import BearerToken, require_bearer

__all__ = ["DevnetRuntime", "RuntimeDep", "SettingsDep", "faucet_guard"]


@dataclass
class DevnetRuntime:
    """What the lifespan builds and the routes use (``app.state.runtime``)."""

    node: DevnetNode
    api: IriApi
    faucet: Faucet
    read_turns: asyncio.Semaphore
    faucet_waiting: int = 0


async def _settings(request: Request) -> DevnetSettings:
    settings: DevnetSettings = request.app.state.settings
    return settings


async def _runtime(request: Request) -> DevnetRuntime:
    runtime: DevnetRuntime = request.app.state.runtime
    return runtime


SettingsDep = Annotated[DevnetSettings, Depends(_settings)]
RuntimeDep = Annotated[DevnetRuntime, Depends(_runtime)]


async def _faucet_token(settings: SettingsDep) -> BearerToken:
    return BearerToken(settings.faucet_token, open_when_unset=settings.faucet_open)


#: The one bearer rule (shared/auth.py): DEVNET_FAUCET_TOKEN, or open only when
#: DEVNET_FAUCET_OPEN=true says so.
faucet_guard = require_bearer(
    _faucet_token, setting="DEVNET_FAUCET_TOKEN", open_setting="DEVNET_FAUCET_OPEN"
)
