"""The channel node service: the peer router, an admin API and (background) the watcher.

Roles (``CHANNELS_ROLE``): ``all`` (one process: wallet, watcher, router), ``front``
(HA: only verifies packages and answers payers; no wallet, no seed) and ``background``
(HA: wallet + watcher, also serves the router). Fronts and the background share one
PostgreSQL database (``CHANNELS_DATABASE_URL``) and nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from services.channels.admin import channels_router, wallet_router
from services.channels.settings import ChannelSettings
from shared.books import BooksSource, books_router
from shared.channels.node import (
    ChannelConfig,
    ChannelNode,
)
from shared.channels.router import PEER_PREFIX, channel_router, pay_endpoint
from shared.db import make_engine, sqlite_url
from shared.health import Health, node_probe, service_router
from shared.ratelimit import limit_writes
from shared.tasks import Supervisor
from shared.web import (
    AsciiJSONResponse,
    BodySizeLimitMiddleware,
    HotRoutes,
    install_error_handlers,
)

__all__ = ["create_app", "load_key", "serving_app"]

MAX_BODY_BYTES = 64 * 1024


def load_key(hex_key: str) -> Ed25519PrivateKey:
    try:
        raw = bytes.fromhex(hex_key)
        if len(raw) != 32:
            raise ValueError("not 32 bytes")
        return Ed25519PrivateKey.from_private_bytes(raw)
    except ValueError:
        raise SystemExit("CHANNELS_KEY: must be 64 hex characters (an Ed25519 key)") from None


def default_answer(amount: int, message: Any, channel_id: str) -> dict[str, Any]:
    """The service's callback: acknowledge the amount and echo the message."""
    return {"received": amount, "message": message}


def create_app(settings: ChannelSettings, node: ChannelNode | None = None) -> FastAPI:
    key = load_key(settings.key_hex())
    database = settings.database_url or sqlite_url(settings.data_dir, "channels")
    wallet = None
    if settings.role != "front":
        from shared.iota.wallet import Wallet

        assert settings.seed is not None
        wallet = Wallet(
            settings.seed.get_secret_value(),
            settings.node_url,
            make_engine(database),
            security=settings.security,
            min_weight_magnitude=settings.mwm,
            request_timeout=settings.node_timeout,
        )
    config = ChannelConfig(
        agent_url=settings.agent_url or settings.node_url,
        public_url=settings.public_url + PEER_PREFIX,
        default_timeout=settings.default_timeout,
        min_timeout=settings.min_timeout,
        max_timeout=settings.max_timeout,
        watch_interval=settings.watch_interval,
        name=settings.name or settings.role,
        sqlite_synchronous=settings.sqlite_synchronous,
    )
    node = node or ChannelNode(key, database, config, wallet)
    node.on_payment(default_answer)
    supervisor = Supervisor("channels")
    # /health: the devnet (a node with a wallet pays and watches on it), probed in the
    # background, and the watcher.
    health = Health()
    if settings.role != "front":
        health.probe("devnet", node_probe(settings.node_url))
    health.watch(supervisor.down)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if node.wallet is not None:
            warm_up = getattr(node.wallet, "warm_up", None)
            if warm_up is not None:
                await asyncio.to_thread(warm_up)
            supervisor.start("watcher", node.watch)
        await health.start()
        try:
            yield
        finally:
            await health.stop()
            await supervisor.stop()
            await node.aclose()

    app = FastAPI(title="channels", summary="Payment-channel node (seed 003)", lifespan=lifespan)
    app.state.channel_node = node
    app.state.settings = settings
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=MAX_BODY_BYTES)
    # One budget per client address for every write, the hot /pay included (serving_app).
    app.state.rate_limit = limit_writes(app, settings)
    install_error_handlers(app)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.include_router(channel_router(node), prefix=PEER_PREFIX)

    # GET / (name, status, role, public key) and GET /health (shared/health.py).
    app.include_router(
        service_router(
            "channels",
            health,
            index=lambda: {"role": settings.role, "pubkey": node.pubkey},
        )
    )

    if settings.role != "front":  # a front has no wallet, so no books
        app.include_router(
            books_router(
                BooksSource(
                    service=lambda: settings.name or "channels",
                    node_url=settings.node_url,
                    wallet=lambda: node.wallet,
                )
            )
        )

    # The admin API (CHANNELS_ADMIN_TOKEN): module-level routers reading the node from
    # app.state through services/channels/deps.py.
    app.include_router(wallet_router)
    app.include_router(channels_router)

    return app


async def _http_error(_request: Request, exc: Exception) -> Response:
    """Refusals as ``{"error": ...}``; a body FastAPI cannot even decode (not UTF-8) is the
    422 of any other invalid JSON, not FastAPI's undeclared 400."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        error = {"type": "json_invalid", "loc": ["body"], "msg": "the body is not UTF-8 JSON"}
        return AsciiJSONResponse({"detail": [error]}, status_code=422)
    return AsciiJSONResponse(
        {"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers
    )


def serving_app(app: FastAPI) -> HotRoutes:
    """What uvicorn serves: ``app``, with a payment's ``POST .../pay`` past its middleware
    stack (about 0.1 ms of CPU less per payment; docs/performance.md)."""
    node: ChannelNode = app.state.channel_node
    return HotRoutes(
        app,
        {("POST", PEER_PREFIX + "/pay"): pay_endpoint(node)},
        MAX_BODY_BYTES,
        buckets=app.state.rate_limit,
    )
