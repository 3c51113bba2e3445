"""Run a machine's ASGI app with uvicorn and key=value logs (used by each service's __main__)."""

from __future__ import annotations

from typing import Any

import uvicorn

from shared.logs import configure_logging
from shared.machine.settings import MachineSettings

__all__ = ["serve"]


def serve(app: Any, settings: MachineSettings, service: str) -> None:
    """Log as ``service`` (shared/logs) and serve ``app`` until SIGTERM."""
    configure_logging(settings.log_level, service)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
        ws="websockets-sansio",
    )
