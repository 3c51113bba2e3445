"""``python -m services.lock``: run the lock controller configured from the environment."""

from __future__ import annotations

import logging

import uvicorn

from services.lock.app import create_app
from services.lock.settings import LockSettings
from shared.settings import load_settings


def main() -> None:
    settings = load_settings(LockSettings)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(name)s %(message)s")
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning")


if __name__ == "__main__":
    main()
