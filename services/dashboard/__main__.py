"""Run the dashboard: ``python -m services.dashboard`` (configured by environment variables)."""

from __future__ import annotations

import uvicorn

from services.dashboard.app import create_app
from services.dashboard.settings import DashboardSettings
from shared.logs import configure_logging
from shared.settings import load_settings


def main() -> None:
    settings = load_settings(DashboardSettings)
    configure_logging(settings.log_level, "dashboard")
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
