"""Run the dashboard: ``python -m services.dashboard`` (configured by environment variables)."""

from __future__ import annotations

from services.dashboard.settings import DashboardSettings
from shared.service_main import run_service


def main() -> None:
    run_service(DashboardSettings, "services.dashboard.app:create_app", name="dashboard")


if __name__ == "__main__":
    main()
