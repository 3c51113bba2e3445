"""Run the consumer: ``python -m services.consumer`` (configured by environment)."""

from __future__ import annotations

from services.consumer.settings import ConsumerSettings
from shared.service_main import run_service


def main() -> None:
    run_service(ConsumerSettings, "services.consumer.app:create_app", name="consumer")


if __name__ == "__main__":
    main()
