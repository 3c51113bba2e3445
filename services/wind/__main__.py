"""Run the wind energy provider: ``python -m services.wind`` (configured by environment)."""

from __future__ import annotations

from services.wind.app import create_app
from services.wind.settings import ProviderSettings
from shared.machine.serve import serve
from shared.settings import load_settings


def main() -> None:
    settings = load_settings(ProviderSettings)
    serve(create_app(settings), settings, "wind")


if __name__ == "__main__":
    main()
