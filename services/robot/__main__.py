"""Run the robot: ``python -m services.robot`` (configured by environment variables)."""

from __future__ import annotations

from services.robot.settings import RobotSettings
from shared.logs import configure_logging
from shared.settings import load_settings
from shared.web import serve


def main() -> None:
    settings = load_settings(RobotSettings)
    configure_logging(settings.log_level, "robot")
    # Imported once logging is set up, so a library's import-time warning is logged in the
    # documented format too (tests/integration/test_log_format.py).
    from services.robot.app import create_app
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
