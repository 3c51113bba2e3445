"""Run the wind energy provider: ``python -m services.wind`` (configured by environment)."""

from __future__ import annotations

from services.wind.settings import ProviderSettings
from shared.logs import configure_logging
from shared.settings import load_settings
from shared.web import serve


def main() -> None:
    settings = load_settings(ProviderSettings)
    configure_logging(settings.log_level, "wind")
    # Imported once logging is set up, so a library's import-time warning is logged in the
    # documented format too (tests/integration/test_log_format.py).
    from services.wind.app import create_app
    from shared.machine.app import MAX_BODY_BYTES

    # the page's Socket.IO runs on uvicorn's sans-I/O websockets
    serve(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        ws="websockets-sansio",
        ws_max_size=MAX_BODY_BYTES,  # a Socket.IO message: the same limit as a request body
    )


if __name__ == "__main__":
    main()
