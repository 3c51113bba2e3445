"""``python -m services.grid``: run the grid configured from the environment."""

from __future__ import annotations

from services.grid.settings import GridSettings
from shared.service_main import run_service


def main() -> None:
    run_service(GridSettings, "services.grid.app:create_app", name=lambda settings: settings.name)


if __name__ == "__main__":
    main()
