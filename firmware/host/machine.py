"""A machine.Pin stand-in: an output that remembers its value and logs every change."""

from __future__ import annotations

import logging

__all__ = ["Pin"]

log = logging.getLogger("firmware.pin")


class Pin:
    """The subset of MicroPython's machine.Pin the firmware uses."""

    IN = 0
    OUT = 1

    def __init__(self, id: int, mode: int = -1, value: int | None = None) -> None:
        self.id = id
        self.mode = mode
        self._value = 0
        if value is not None:
            self.value(value)

    def value(self, value: int | None = None) -> int | None:
        if value is None:
            return self._value
        new = 1 if value else 0
        if new != self._value:
            log.info("event=relay pin=%d value=%d", self.id, new)
        self._value = new
        return None

    def on(self) -> None:
        self.value(1)

    def off(self) -> None:
        self.value(0)
