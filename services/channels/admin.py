"""The admin API (``Authorization: Bearer <CHANNELS_ADMIN_TOKEN>``): the wallet and the
channels, one module-level router each; the node comes from services/channels/deps.py."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, field_validator

from services.channels.deps import Node, require_admin
from shared.channels.node import (
    ChannelError,
    PaymentError,
    PaymentRefused,
    PeerUnreachable,
    UnknownChannel,
)
from shared.channels.rules import MAX_AMOUNT, MAX_TIMEOUT
from shared.db import run_db
from shared.iota.wallet import InsufficientFunds, NodeError, WalletError
from shared.web import AsciiJSONResponse

__all__ = ["channels_router", "wallet_router"]


class CreateBody(BaseModel):
    peer: str = Field(
        max_length=2048,
        description="The peer's router URL, e.g. http://bob:8700/channels/peer",
        examples=["http://bob:8700/channels/peer"],
    )
    amount: int = Field(ge=0, le=MAX_AMOUNT, description="First deposit (tokens), 0 for none")
    timeout: int | None = Field(None, ge=1, le=MAX_TIMEOUT, description="Seconds")

    @field_validator("peer")
    @classmethod
    def _peer_url(cls, value: str) -> str:
        try:
            url = httpx.URL(value)
        except (httpx.InvalidURL, TypeError, ValueError):
            raise ValueError("peer must be an http(s) URL") from None
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("peer must be an http(s) URL with a host")
        return value


class PayBody(BaseModel):
    amount: int = Field(ge=1, le=MAX_AMOUNT)
    message: Any = None


class DepositBody(BaseModel):
    amount: int = Field(ge=1, le=MAX_AMOUNT)


class ErrorBody(BaseModel):
    error: str


class InvalidBody(BaseModel):
    """422: ``{"error"}`` (the peer's callback failed) or FastAPI's ``{"detail": [...]}``."""

    error: str | None = None
    detail: list[Any] | None = None


def _responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the refusals a route can answer (body ``{"error": ...}``)."""
    meaning = {
        401: "admin token missing or wrong",
        404: "unknown channel",
        409: "refused: the channel's state, the peer or the wallet says no (the error says why)",
        422: "invalid request, or (pay) the peer's callback answered with an error",
        502: "the peer or the IOTA node did not answer",
        503: "not running",
    }
    return {
        code: {"description": meaning[code], "model": InvalidBody if code == 422 else ErrorBody}
        for code in codes
    }


def failed(error: ChannelError | WalletError) -> JSONResponse:
    status = 409
    if isinstance(error, PeerUnreachable | NodeError):
        status = 502
    elif isinstance(error, UnknownChannel):
        status = 404
    elif isinstance(error, PaymentError):
        status = 422
    elif isinstance(error, InsufficientFunds | PaymentRefused):
        status = 409
    return AsciiJSONResponse({"error": str(error)}, status_code=status)


wallet_router = APIRouter(dependencies=[Depends(require_admin)])
channels_router = APIRouter(dependencies=[Depends(require_admin)])


@wallet_router.get("/wallet", responses=_responses(401, 409, 502))
async def wallet_info(node: Node) -> JSONResponse:
    """The wallet's confirmed balance (background and all roles)."""
    if node.wallet is None:
        return AsciiJSONResponse({"error": "a front has no wallet"}, status_code=409)
    try:
        balance = await asyncio.to_thread(node.wallet.balance)
    except WalletError as error:
        return failed(error)
    return AsciiJSONResponse({"balance": balance})


@wallet_router.post("/wallet/address", responses=_responses(401, 409, 502))
async def wallet_address(node: Node) -> JSONResponse:
    """A fresh address to fund the wallet with."""
    if node.wallet is None:
        return AsciiJSONResponse({"error": "a front has no wallet"}, status_code=409)
    try:
        address = await asyncio.to_thread(node.wallet.new_address, "funding")
    except WalletError as error:
        return failed(error)
    return AsciiJSONResponse({"address": address})


@channels_router.get("/channels", responses=_responses(401))
async def channels(node: Node) -> dict[str, Any]:
    return {"channels": await run_db(node.channels)}


@channels_router.post("/channels", responses=_responses(401, 409, 422, 502))
async def create(body: CreateBody, node: Node) -> JSONResponse:
    """Open a channel with the node at ``peer`` and deposit ``amount``."""
    try:
        cid = await node.create_channel(body.peer, body.amount, timeout=body.timeout)
    except (ChannelError, WalletError) as error:
        return failed(error)
    return AsciiJSONResponse({"channel_id": cid})


@channels_router.get("/channels/{cid}", responses=_responses(401, 404))
async def balances(cid: str, node: Node) -> JSONResponse:
    try:
        return AsciiJSONResponse(await run_db(node.balances_and_status, cid))
    except ChannelError as error:
        return AsciiJSONResponse({"error": str(error)}, status_code=404)


@channels_router.post("/channels/{cid}/pay", responses=_responses(401, 404, 409, 422, 502))
async def pay(cid: str, body: PayBody, node: Node) -> JSONResponse:
    """Pay ``amount`` off-ledger; the peer callback's answer."""
    try:
        return AsciiJSONResponse({"response": await node.pay(cid, body.amount, body.message)})
    except ChannelError as error:
        return failed(error)


@channels_router.post("/channels/{cid}/deposit", responses=_responses(401, 404, 409, 422, 502))
async def deposit(cid: str, body: DepositBody, node: Node) -> JSONResponse:
    """Deposit ``amount`` more into the channel's current escrow."""
    try:
        return AsciiJSONResponse({"tail": await node.deposit(cid, body.amount)})
    except (ChannelError, WalletError) as error:
        return failed(error)


@channels_router.post("/channels/{cid}/close", responses=_responses(401, 404, 409))
async def close(cid: str, node: Node) -> JSONResponse:
    try:
        await node.close(cid)
    except ChannelError as error:
        return failed(error)
    return AsciiJSONResponse({"closing": True})
