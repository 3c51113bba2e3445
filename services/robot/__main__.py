"""Run the robot: ``python -m services.robot`` (configured by environment variables)."""

from __future__ import annotations

from services.robot.settings import RobotSettings
from shared.service_main import machine_options, run_service


def main() -> None:
    run_service(
        RobotSettings, "services.robot.app:create_app", name="robot", options=machine_options
    )


if __name__ == "__main__":
    main()
