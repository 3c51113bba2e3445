"""Run the devnet: ``python -m services.devnet`` (configured by DEVNET_* variables)."""

from __future__ import annotations

import sys

from services.devnet.settings import DevnetSettings
from services.devnet.tangle import load_snapshot
from shared.service_main import run_service


def _check(settings: DevnetSettings) -> None:
    if settings.snapshot is not None:
        try:
            load_snapshot(settings.snapshot)
        except (OSError, ValueError) as error:
            print(f"invalid settings:\n  DEVNET_SNAPSHOT: {error}", file=sys.stderr)
            raise SystemExit(2) from None


def main() -> None:
    run_service(DevnetSettings, "services.devnet.app:create_app", name="devnet", check=_check)


if __name__ == "__main__":
    main()
