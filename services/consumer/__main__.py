"""Run the consumer: ``python -m services.consumer`` (configured by environment)."""

from __future__ import annotations

from services.consumer.app import create_app
from services.consumer.settings import ConsumerSettings
from shared.energy.service import serve_energy
from shared.settings import load_settings


def main() -> None:
    settings = load_settings(ConsumerSettings)
    serve_energy(create_app(settings), settings, "consumer")


if __name__ == "__main__":
    main()
