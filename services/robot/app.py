"""The robot's app factory (the robot itself is shared/robot.py, which a fleet shares)."""

from __future__ import annotations

import socketio

from services.robot.settings import RobotSettings
from shared.robot import create_robot_app

__all__ = ["create_app"]


def create_app(settings: RobotSettings) -> socketio.ASGIApp:
    return create_robot_app(settings)
