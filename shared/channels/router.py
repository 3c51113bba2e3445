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
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from shared.channels.node import ChannelError, ChannelNode, PaymentRefused
from shared.db import run_db
from shared.web import AsciiJSONResponse, provide, provided

#: Where a node mounts this router: a peer's channel URL is its public URL + this.
PEER_PREFIX = "/channels/peer"

__all__ = ["PEER_PREFIX", "channel_router", "pay_endpoint", "receive_payment", "router"]


class CreateRequest(BaseModel):
    pubkey: Any = None
    address: Any = None
    timeout: Any = None
    salt: Any = None
    url: Any = None


class ReadyRequest(BaseModel):
    channel_id: Any = None


class PayAnswer(BaseModel):
    accepted: bool
    response: Any = None
    error: str | None = None


# 400: the node refuses ({"error"}), or (where the app has no handler of its own, e.g. a
# machine's peer routes) Starlette could not parse the body ({"detail"}).
_REFUSED_OR_UNPARSABLE: dict[str, Any] = {
    "description": "refused (the error says why), or a body that is not JSON",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"error": {"type": "string"}, "detail": {}},
            }
        }
    },
}


_PAY_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "package": {
            "type": "object",
            "description": "the payer's signed cumulative package: {body, sig}",
            "properties": {
                "body": {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string", "enum": ["payment"]},
                        "channel": {"type": "string"},
                        "period": {"type": "integer"},
                        "payer": {"type": "string", "enum": ["A", "B"]},
                        "amount_spent": {"type": "integer"},
                        "payment_amount": {"type": "integer"},
                        "seq": {"type": "integer"},
                    },
                },
                "sig": {"type": "string", "description": "base64 Ed25519 over the body"},
            },
        },
        "message": {"description": "any JSON, handed to the receiver's callback"},
    },
}


async def _node(request: Request) -> ChannelNode:
    node_or_getter: ChannelNode | Callable[[], ChannelNode] = provided(request, "channel_node")
    if isinstance(node_or_getter, ChannelNode):
        return node_or_getter
    return node_or_getter()


Node = Annotated[ChannelNode, Depends(_node)]

#: The routes, module-level; :func:`channel_router` gives them one service's node.
router = APIRouter(tags=["channels (peer)"])


@router.post(
    "/create",
    responses={400: _REFUSED_OR_UNPARSABLE},
)
async def create(payload: CreateRequest, node: Node) -> JSONResponse:
    """A peer proposes a channel; the answer is my key and payout address."""
    try:
        answer = await asyncio.to_thread(node.accept_create, payload.model_dump())
    except ChannelError as error:
        return AsciiJSONResponse({"error": str(error)}, status_code=400)
    return AsciiJSONResponse(answer)


@router.post("/is_ready", responses={400: _REFUSED_OR_UNPARSABLE})
async def is_ready(payload: ReadyRequest, node: Node) -> JSONResponse:
    """Whether this node knows the channel and takes payments on it."""
    return AsciiJSONResponse({"response": await run_db(node.is_ready, payload.channel_id)})


@router.post(
    "/pay",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _PAY_BODY}},
        }
    },
    responses={
        200: {"description": "the package was taken", "model": PayAnswer},
        409: {"description": "the package was refused, nothing credited", "model": PayAnswer},
        422: {"description": "the body is not a JSON object"},
    },
)
async def pay(request: Request, node: Node) -> Response:
    """A signed payment package and the payer's message; the receiver's answer.

    Served past the middleware stack by services.channels (shared.web.HotRoutes, the
    same endpoint); the body is read by hand, not by pydantic (the hot path).
    """
    return await receive_payment(node, request)


def channel_router(node_or_getter: ChannelNode | Callable[[], ChannelNode]) -> APIRouter:
    """The routes for one node; pass the node, or a function returning it (built later, in
    a lifespan)."""
    bound = APIRouter()
    bound.include_router(router, dependencies=[provide("channel_node", node_or_getter)])
    return bound


def pay_endpoint(
    node_or_getter: ChannelNode | Callable[[], ChannelNode],
) -> Callable[[Request], Awaitable[Response]]:
    """``POST .../pay`` as a plain Starlette endpoint, the hot path of a payment: FastAPI's
    dependency and pydantic machinery cost more than checking the two fields by hand. A
    service may serve it past its middleware stack (shared.web.HotRoutes, services.channels).
    """

    def get() -> ChannelNode:
        if isinstance(node_or_getter, ChannelNode):
            return node_or_getter
        return node_or_getter()

    async def endpoint(request: Request) -> Response:
        return await receive_payment(get(), request)

    return endpoint


async def receive_payment(node: ChannelNode, request: Request) -> Response:
    """A signed payment package and the payer's message; the answer (or 409, or 422)."""
    payload, problem = _json_object(await request.body())
    if problem is not None:
        return problem
    try:
        answer = await node.receive(payload.get("package"), payload.get("message"))
    except PaymentRefused as error:
        return AsciiJSONResponse({"accepted": False, "error": str(error)}, status_code=409)
    return AsciiJSONResponse(answer)


def _invalid(kind: str, message: str) -> Response:
    # The shape FastAPI gives a request its validation refuses (what the route had before).
    error = {"type": kind, "loc": ["body"], "msg": message}
    return AsciiJSONResponse({"detail": [error]}, status_code=422)


def _json_object(raw: bytes) -> tuple[dict[str, Any], Response | None]:
    """The request body as a JSON object, or a 422 saying why it is not one."""
    try:
        payload = json.loads(raw)
    except ValueError as error:  # UnicodeDecodeError included
        return {}, _invalid("json_invalid", f"JSON decode error: {error}")
    if not isinstance(payload, dict):
        return {}, _invalid("model_attributes_type", "Input should be a JSON object")
    return payload, None
