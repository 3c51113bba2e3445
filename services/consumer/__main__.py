"""Run the consumer: ``python -m services.consumer`` (configured by environment)."""

from __future__ import annotations

from services.consumer.app import create_app
from services.consumer.settings import ConsumerSettings
from shared.logs import configure_logging
from shared.settings import load_settings
from shared.web import serve


def main() -> None:
    settings = load_settings(ConsumerSettings)
    configure_logging(settings.log_level, "consumer")
    serve(create_app(settings), host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
