"""``python -m services.lock``: run the lock controller configured from the environment."""

from __future__ import annotations

from services.lock.app import create_app
from services.lock.settings import LockSettings
from shared.logs import configure_logging
from shared.settings import load_settings
from shared.web import serve


def main() -> None:
    settings = load_settings(LockSettings)
    configure_logging(settings.log_level, "lock")
    serve(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
    )


if __name__ == "__main__":
    main()
