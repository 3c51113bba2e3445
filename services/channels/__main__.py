"""Run a channel node: ``python -m services.channels`` (configured by CHANNELS_* variables)."""

from __future__ import annotations

from services.channels.app import create_app, serving_app
from services.channels.settings import ChannelSettings
from shared.logs import configure_logging
from shared.settings import load_settings
from shared.web import serve


def main() -> None:
    settings = load_settings(ChannelSettings)
    configure_logging(settings.log_level, f"channels-{settings.name or settings.role}")
    serve(serving_app(create_app(settings)), host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
