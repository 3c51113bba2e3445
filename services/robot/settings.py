"""Environment settings of a robot (defined in shared/robot.py, which a fleet shares)."""

from __future__ import annotations

from shared.robot import RobotSettings

__all__ = ["RobotSettings"]
