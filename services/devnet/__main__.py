"""Run the devnet: ``python -m services.devnet`` (configured by DEVNET_* variables)."""

from __future__ import annotations

import sys

from services.devnet.settings import DevnetSettings
from services.devnet.tangle import load_snapshot
from shared.logs import configure_logging
from shared.settings import load_settings
from shared.web import serve


def main() -> None:
    settings = load_settings(DevnetSettings)
    if settings.snapshot is not None:
        try:
            load_snapshot(settings.snapshot)
        except (OSError, ValueError) as error:
            print(f"invalid settings:\n  DEVNET_SNAPSHOT: {error}", file=sys.stderr)
            raise SystemExit(2) from None
    configure_logging(settings.log_level, "devnet")
    # Imported once logging is set up, so a library's import-time warning is logged in the
    # documented format too (tests/integration/test_log_format.py).
    from services.devnet.app import create_app

    serve(create_app(settings), host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
