"""Run the devnet: ``python -m services.devnet`` (configured by DEVNET_* variables)."""

from __future__ import annotations

import sys

import uvicorn

from services.devnet.app import create_app
from services.devnet.settings import DevnetSettings
from services.devnet.tangle import load_snapshot
from shared.logs import configure_logging
from shared.settings import load_settings


def main() -> None:
    settings = load_settings(DevnetSettings)
    if settings.snapshot is not None:
        try:
            load_snapshot(settings.snapshot)
        except (OSError, ValueError) as error:
            print(f"invalid settings:\n  DEVNET_SNAPSHOT: {error}", file=sys.stderr)
            raise SystemExit(2) from None
    configure_logging(settings.log_level, "devnet")
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
