"""Run the producer: ``python -m services.producer`` (configured by environment)."""

from __future__ import annotations

from services.producer.app import create_app
from services.producer.settings import ProducerSettings
from shared.logs import configure_logging
from shared.settings import load_settings
from shared.web import serve


def main() -> None:
    settings = load_settings(ProducerSettings)
    configure_logging(settings.log_level, "producer")
    serve(create_app(settings), host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
