"""Run a machine's ASGI app with uvicorn (used by each machine's __main__, which has set up
logging with shared/logs.configure_logging first; uvicorn's own lines go through it)."""

from __future__ import annotations

from typing import Any

import uvicorn

from shared.machine.settings import MachineSettings

__all__ = ["serve"]


def serve(app: Any, settings: MachineSettings) -> None:
    """Serve ``app`` until SIGTERM."""
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
        ws="websockets-sansio",
    )
