"""Run a machine's ASGI app with uvicorn and key=value logs (used by each service's __main__)."""

from __future__ import annotations

import logging
from typing import Any

import uvicorn

from shared.machine.settings import MachineSettings

__all__ = ["configure_logging", "serve"]


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="ts=%(asctime)s level=%(levelname)s logger=%(name)s %(message)s",
    )
    # pyota and the socket servers are chatty at INFO; their warnings still show
    for noisy in ("engineio", "socketio", "iota", "urllib3", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def serve(app: Any, settings: MachineSettings) -> None:
    configure_logging(settings.log_level)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
        ws="websockets-sansio",
    )
