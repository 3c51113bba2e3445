"""Run the solar energy provider: ``python -m services.solar`` (configured by environment)."""

from __future__ import annotations

from services.solar.app import create_app
from services.solar.settings import ProviderSettings
from shared.machine.serve import serve
from shared.settings import load_settings


def main() -> None:
    settings = load_settings(ProviderSettings)
    serve(create_app(settings), settings, "solar")


if __name__ == "__main__":
    main()
