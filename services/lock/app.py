"""The lock controller (p2k16's role): members, circles, tools, checkout -> MQTT -> echo.

The app is assembled here; the controller object is in :mod:`services.lock.controller`, the
route dependencies in :mod:`services.lock.deps` and the routes in :mod:`services.lock.routers`,
one module per resource.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException
from sqlalchemy import select

from services.lock.controller import Controller
from services.lock.routers import accounts, checkouts, circles, events, payments, tools
from services.lock.settings import LockSettings
from shared.db import run_db
from shared.health import PROBE_TIMEOUT, Health, service_router
from shared.ratelimit import limit_writes
from shared.tasks import Supervisor
from shared.web import BodySizeLimitMiddleware, install_error_handlers

__all__ = ["MAX_BODY_BYTES", "create_app"]

log = logging.getLogger("services.lock")

#: Every request body of this API is a small JSON object.
MAX_BODY_BYTES = 64 * 1024


def create_app(settings: LockSettings) -> FastAPI:
    """Build the lock controller; the lifespan owns the database and the MQTT connection."""
    holder: dict[str, Controller] = {}

    async def broker_answers() -> str | None:
        controller = holder.get("controller")
        if controller is None:
            return "starting"
        if not controller.mqtt.connected:
            return "not connected to the broker"
        await controller.mqtt.ping(PROBE_TIMEOUT)
        return None

    async def database_answers() -> str | None:
        controller = holder.get("controller")
        if controller is None:
            return "starting"

        def select_one() -> None:
            with controller.sessions() as session:
                session.execute(select(1))

        await run_db(select_one)
        return None

    # /health: the MQTT broker (a round trip, so a hung broker shows within seconds)
    # and the database, probed in the background (shared/health.py).
    health = Health()
    health.probe("mqtt", broker_answers)
    health.probe("database", database_answers)
    # Pay-per-use (issue 23): the channel watcher and the session watcher, when on.
    supervisor = Supervisor("lock-paid")
    health.watch(supervisor.down)

    def connected() -> bool:
        controller = holder.get("controller")
        return controller is not None and controller.mqtt.connected

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        controller = Controller(settings)
        app.state.controller = controller
        holder["controller"] = controller
        await controller.start()
        task = asyncio.create_task(controller.link.run(), name="lock-link")
        if settings.lock_channel_seed is not None:
            from services.lock.paid import PaidAccess

            paid = controller.paid = await run_db(PaidAccess, controller)
            await run_db(paid.wallet.warm_up)
            supervisor.start("channel-watcher", paid.node.watch)
            supervisor.start("paid-sessions", paid.run)
        await health.start()
        log.info("event=lock_controller_start broker=%s", settings.broker.redacted())
        try:
            yield
        finally:
            await health.stop()
            await supervisor.stop()
            if controller.paid is not None:
                await controller.paid.node.aclose()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await controller.close()
            log.info("event=lock_controller_stop")

    app = FastAPI(
        title="Lock controller",
        description="Who may use which machine; unlocks lock devices over MQTT (seed 004).",
        version="0.1.0",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=MAX_BODY_BYTES)
    # GET / (name, status) and GET /health, the shared router.
    app.include_router(
        service_router(
            settings.name,
            health,
            status=lambda: "ok" if connected() else "broker-disconnected",
            details=lambda: {"broker_connected": connected()},
        )
    )
    for module in (accounts, circles, tools, checkouts, events, payments):
        app.include_router(module.router)
    if settings.lock_channel_seed is not None:
        # Imported only when on: PyOTA takes seconds to import on a loaded machine.
        from services.lock.paid import PEER_PREFIX
        from shared.channels.node import ChannelNode
        from shared.channels.router import channel_router

        def node() -> ChannelNode:
            controller = holder.get("controller")
            if controller is None or controller.paid is None:
                raise HTTPException(503, "payment channels are starting")
            return controller.paid.node

        # The peer protocol of seed 003 (create, is_ready, pay): payers open channels here.
        app.include_router(channel_router(node), prefix=PEER_PREFIX)
    limit_writes(app, settings)
    return app
