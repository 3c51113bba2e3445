"""The channel agent's place in the devnet app (services/devnet/channel_agent.py): its
settings, the supervised loop and the HTTP routes ``POST /channels`` and
``GET /channels/{id}``."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.devnet.channel_agent import ChannelAgent, ChannelAgentSettings, UnknownChannel
from services.devnet.node import DevnetNode
from shared.channels.rules import ChannelDefinition, RuleError
from shared.settings import load_settings
from shared.tasks import Supervisor

__all__ = ["ChannelAgentHost", "RegisterRequest", "router"]

log = logging.getLogger("devnet.channels")


class ChannelAgentHost:
    """The agent's place in the devnet app: settings and the supervised loop; the HTTP
    routes (:data:`router`) reach it on ``app.state.channel_agent_host``."""

    def __init__(self, data_dir: Path, fallback_secret: str) -> None:
        self.settings = load_settings(ChannelAgentSettings)
        self.data_dir = data_dir
        self._fallback = fallback_secret
        self.agent: ChannelAgent | None = None
        self.supervisor = Supervisor("devnet-channels")

    async def start(self, node: DevnetNode) -> None:
        if not self.settings.enabled:
            log.info("event=channel_agent_disabled")
            return
        self.agent = await asyncio.to_thread(
            ChannelAgent.from_settings, node, self.settings, self.data_dir, self._fallback
        )
        self.supervisor.start("channel-agent", self._run)
        log.info("event=channel_agent_started interval=%s", self.settings.interval)

    async def _run(self) -> None:
        assert self.agent is not None
        while True:
            await asyncio.to_thread(self.agent.step)
            await asyncio.sleep(self.settings.interval)

    async def stop(self) -> None:
        await self.supervisor.stop()
        if self.agent is not None:
            self.agent.close()


async def _host(request: Request) -> ChannelAgentHost:
    host: ChannelAgentHost = request.app.state.channel_agent_host
    return host


HostDep = Annotated[ChannelAgentHost, Depends(_host)]


def _running(host: ChannelAgentHost) -> ChannelAgent:
    # Asked for in the route's body, not as a dependency: a request the route refuses on
    # its own (a bad id: 400) is refused so even while the agent is off.
    if host.agent is None:
        raise HTTPException(503, "the channel agent is not running")
    return host.agent


#: ``POST /channels`` and ``GET /channels/{id}``; the devnet puts its
#: :class:`ChannelAgentHost` on ``app.state.channel_agent_host``.
router = APIRouter(
    prefix="/channels",
    tags=["channels"],
    responses={503: {"description": "the channel agent is not running"}},
)


class RegisterRequest(BaseModel):
    """POST /channels body."""

    definition: Any = None


_ID_PATTERN = "^[0-9a-f]{64}$"
_CHANNEL_ID = re.compile(_ID_PATTERN)


@router.post("", responses={400: {"description": "not a valid channel definition"}})
async def register(payload: RegisterRequest, host: HostDep) -> JSONResponse:
    """Register a channel definition (idempotent): its id, period and escrow address."""
    try:
        definition = ChannelDefinition.from_json(payload.definition)
        summary = await asyncio.to_thread(_running(host).register, definition)
    except RuleError as error:
        return JSONResponse({"error": str(error)}, status_code=400)
    return JSONResponse(summary)


@router.get(
    "/{channel_id}",
    responses={
        400: {"description": "not a channel id (64 lowercase hex)"},
        404: {"description": "unknown channel"},
    },
)
async def channel(
    channel_id: Annotated[str, PathParam(json_schema_extra={"pattern": _ID_PATTERN})],
    host: HostDep,
) -> JSONResponse:
    """A channel as the agent sees it: period, status, escrow, deposits, claims, payouts."""
    if not _CHANNEL_ID.match(channel_id):
        return JSONResponse(
            {"error": "channel id must be 64 lowercase hex characters"}, status_code=400
        )
    try:
        summary = await asyncio.to_thread(_running(host).summary, channel_id)
    except UnknownChannel:
        return JSONResponse({"error": "unknown channel"}, status_code=404)
    return JSONResponse(summary)
