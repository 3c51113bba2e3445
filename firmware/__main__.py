"""``python -m firmware``: run one lock device configured from the environment."""

from __future__ import annotations

from firmware.host.runner import main_loop
from firmware.host.settings import FirmwareSettings
from shared.logs import configure_logging
from shared.settings import load_settings


def main() -> None:
    settings = load_settings(FirmwareSettings)
    configure_logging(settings.log_level, "lock-device")
    main_loop(settings)


if __name__ == "__main__":
    main()
