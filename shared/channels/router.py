"""The peer-to-peer HTTP API of a channel node: ``create``, ``is_ready``, ``pay``.

A service mounts it where its peers can reach it::

    app.include_router(channel_router(node), prefix="/channels/peer")

Every answer is JSON. ``pay`` answers ``200 {"accepted": true, "response": ..., "error":
null|"..."}`` when the package was taken (``error`` is the callback's), ``409
{"accepted": false, "error": "..."}`` when it was refused (nothing credited).
``create`` and ``is_ready`` are unauthenticated, as in seed 003: a channel proposal
costs the receiver one row (bounded by ``max_channels``) and nothing else; a payment is
authenticated by its signature.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from shared.channels.node import ChannelError, ChannelNode, PaymentRefused
from shared.db import run_db
from shared.web import AsciiJSONResponse

__all__ = ["channel_router"]


class CreateRequest(BaseModel):
    pubkey: Any = None
    address: Any = None
    timeout: Any = None
    salt: Any = None
    url: Any = None


class ReadyRequest(BaseModel):
    channel_id: Any = None


class PayRequest(BaseModel):
    package: Any = None
    message: Any = None


def channel_router(node_or_getter: ChannelNode | Callable[[], ChannelNode]) -> APIRouter:
    """The routes; pass the node, or a function returning it (built later, in a lifespan)."""
    router = APIRouter(tags=["channels (peer)"])

    def get() -> ChannelNode:
        if isinstance(node_or_getter, ChannelNode):
            return node_or_getter
        return node_or_getter()

    @router.post("/create")
    async def create(payload: CreateRequest) -> JSONResponse:
        """A peer proposes a channel; the answer is my key and payout address."""
        try:
            answer = await asyncio.to_thread(get().accept_create, payload.model_dump())
        except ChannelError as error:
            return AsciiJSONResponse({"error": str(error)}, status_code=400)
        return AsciiJSONResponse(answer)

    @router.post("/is_ready")
    async def is_ready(payload: ReadyRequest) -> JSONResponse:
        """Whether this node knows the channel and takes payments on it."""
        return AsciiJSONResponse({"response": await run_db(get().is_ready, payload.channel_id)})

    @router.post("/pay")
    async def pay(payload: PayRequest) -> JSONResponse:
        """A signed payment package and the payer's message; the callback's answer."""
        try:
            answer = await get().receive(payload.package, payload.message)
        except PaymentRefused as error:
            return AsciiJSONResponse({"accepted": False, "error": str(error)}, status_code=409)
        return AsciiJSONResponse(answer)

    return router
