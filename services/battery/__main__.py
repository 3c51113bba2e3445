"""Run the battery: ``python -m services.battery`` (configured by environment)."""

from __future__ import annotations

from services.battery.settings import BatterySettings
from shared.service_main import run_service


def main() -> None:
    run_service(BatterySettings, "services.battery.app:create_app", name="battery")


if __name__ == "__main__":
    main()
