"""Run the dashboard: ``python -m services.dashboard`` (configured by environment variables)."""

from __future__ import annotations

from services.dashboard.settings import DashboardSettings
from shared.logs import configure_logging
from shared.settings import load_settings
from shared.web import serve


def main() -> None:
    settings = load_settings(DashboardSettings)
    configure_logging(settings.log_level, "dashboard")
    # Imported once logging is set up, so a library's import-time warning is logged in the
    # documented format too (tests/integration/test_log_format.py).
    from services.dashboard.app import create_app

    serve(create_app(settings), host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
