"""Run a channel node: ``python -m services.channels`` (configured by CHANNELS_* variables)."""

from __future__ import annotations

from typing import Any

from services.channels.settings import ChannelSettings
from shared.service_main import run_service


def _app(settings: ChannelSettings) -> Any:
    from services.channels.app import create_app, serving_app

    return serving_app(create_app(settings))


def main() -> None:
    run_service(
        ChannelSettings, _app, name=lambda settings: f"channels-{settings.name or settings.role}"
    )


if __name__ == "__main__":
    main()
