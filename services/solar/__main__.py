"""Run the solar energy provider: ``python -m services.solar`` (configured by environment)."""

from __future__ import annotations

from services.solar.settings import ProviderSettings
from shared.service_main import machine_options, run_service


def main() -> None:
    run_service(
        ProviderSettings, "services.solar.app:create_app", name="solar", options=machine_options
    )


if __name__ == "__main__":
    main()
