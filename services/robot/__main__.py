"""Run the robot: ``python -m services.robot`` (configured by environment variables)."""

from __future__ import annotations

from services.robot.app import create_app
from services.robot.settings import RobotSettings
from shared.machine.serve import serve
from shared.settings import load_settings


def main() -> None:
    settings = load_settings(RobotSettings)
    serve(create_app(settings), settings, "robot")


if __name__ == "__main__":
    main()
