"""Run the producer: ``python -m services.producer`` (configured by environment)."""

from __future__ import annotations

from services.producer.app import create_app
from services.producer.settings import ProducerSettings
from shared.energy.service import serve_energy
from shared.settings import load_settings


def main() -> None:
    settings = load_settings(ProducerSettings)
    serve_energy(create_app(settings), settings, "producer")


if __name__ == "__main__":
    main()
