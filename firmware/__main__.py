"""``python -m firmware``: run one lock device configured from the environment."""

from __future__ import annotations

import logging

from firmware.host.runner import main_loop
from firmware.host.settings import FirmwareSettings
from shared.settings import load_settings


def main() -> None:
    settings = load_settings(FirmwareSettings)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(name)s %(message)s")
    main_loop(settings)


if __name__ == "__main__":
    main()
