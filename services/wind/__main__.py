"""Run the wind energy provider: ``python -m services.wind`` (configured by environment)."""

from __future__ import annotations

from services.wind.settings import ProviderSettings
from shared.service_main import machine_options, run_service


def main() -> None:
    run_service(
        ProviderSettings, "services.wind.app:create_app", name="wind", options=machine_options
    )


if __name__ == "__main__":
    main()
