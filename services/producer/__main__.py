"""Run the producer: ``python -m services.producer`` (configured by environment)."""

from __future__ import annotations

from services.producer.settings import ProducerSettings
from shared.service_main import run_service


def main() -> None:
    run_service(ProducerSettings, "services.producer.app:create_app", name="producer")


if __name__ == "__main__":
    main()
