"""Run the dashboard: ``python -m services.dashboard`` (configured by environment variables)."""

from __future__ import annotations

import logging

import uvicorn

from services.dashboard.app import create_app
from services.dashboard.settings import DashboardSettings
from shared.settings import load_settings


def main() -> None:
    settings = load_settings(DashboardSettings)
    logging.basicConfig(
        level=settings.log_level,
        format="ts=%(asctime)s level=%(levelname)s logger=%(name)s %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
