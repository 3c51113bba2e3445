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

from fastapi import FastAPI

from services.lock.controller import Controller
from services.lock.routers import accounts, checkouts, circles, events, service, tools
from services.lock.settings import LockSettings
from shared.web import BodySizeLimitMiddleware, install_error_handlers

__all__ = ["MAX_BODY_BYTES", "create_app"]

log = logging.getLogger("services.lock")

#: Every request body of this API is a small JSON object.
MAX_BODY_BYTES = 64 * 1024


def create_app(settings: LockSettings) -> FastAPI:
    """Build the lock controller; the lifespan owns the database and the MQTT connection."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        controller = Controller(settings)
        app.state.controller = controller
        await controller.start()
        task = asyncio.create_task(controller.link.run(), name="lock-link")
        log.info("event=lock_controller_start broker=%s", settings.broker.redacted())
        try:
            yield
        finally:
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
    for module in (service, accounts, circles, tools, checkouts, events):
        app.include_router(module.router)
    return app
