"""``python -m services.grid``: run the grid configured from the environment."""

from __future__ import annotations

from services.grid.app import create_app
from services.grid.settings import GridSettings
from shared.logs import configure_logging
from shared.settings import load_settings
from shared.web import serve


def main() -> None:
    settings = load_settings(GridSettings)
    configure_logging(settings.log_level, settings.name)
    serve(create_app(settings), host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
