"""Run the EV charger: ``python -m services.charger`` (configured by environment)."""

from __future__ import annotations

from services.charger.settings import ChargerSettings
from shared.service_main import machine_options, run_service


def main() -> None:
    run_service(
        ChargerSettings, "services.charger.app:create_app", name="charger", options=machine_options
    )


if __name__ == "__main__":
    main()
