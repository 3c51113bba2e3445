"""``python -m services.lock``: run the lock controller configured from the environment."""

from __future__ import annotations

from services.lock.settings import LockSettings
from shared.service_main import run_service


def main() -> None:
    run_service(
        LockSettings,
        "services.lock.app:create_app",
        name="lock",
        options=lambda settings: {"log_level": settings.log_level.lower()},
    )


if __name__ == "__main__":
    main()
