"""Pushes a machine's status and balance to every Socket.IO client, and greets new ones.

The broadcaster remembers the last status it announced, so ``welcome`` always carries the
REAL current status (the original always said waiting_for_order).
"""

from __future__ import annotations

import logging
from typing import Any

import socketio

from shared.machine.status import MachineStatus

__all__ = ["StatusBroadcaster"]

log = logging.getLogger("machine.status")


class StatusBroadcaster:
    """The single source of truth for "what is this machine doing", mirrored to all sockets."""

    def __init__(self, sio: socketio.AsyncServer, name: str) -> None:
        self._sio = sio
        self.name = name
        self.status = MachineStatus.BOOTING
        self.last_status: dict[str, Any] = {"status": self.status.value, "message": "booting"}
        self.balance: int | None = None
        sio.on("connect", self._on_connect)

    async def _on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        await self._sio.emit("welcome", {"name": self.name, "status": self.status.value}, to=sid)
        # the details of the current status (e.g. the address to pay) and the balance too,
        # so a page opened mid-order can show everything without waiting for a change
        await self._sio.emit("status", self.last_status, to=sid)
        if self.balance is not None:
            await self._sio.emit("balance", {"name": self.name, "balance": self.balance}, to=sid)

    async def announce(self, status: MachineStatus, message: str, **details: Any) -> None:
        """Record and push a status change: {status, message, address?, price?, order_id?}."""
        self.status = status
        payload: dict[str, Any] = {"status": status.value, "message": message}
        payload.update({k: v for k, v in details.items() if v is not None})
        self.last_status = payload
        log.info(
            "event=status name=%s status=%s order_id=%s",
            self.name.replace(" ", "_"),
            status.value,
            details.get("order_id", "-"),
        )
        await self._sio.emit("status", payload)

    async def announce_balance(self, balance: int) -> None:
        """Push the confirmed balance when it differs from the last one pushed."""
        if balance == self.balance:
            return
        self.balance = balance
        log.info("event=balance name=%s balance=%d", self.name.replace(" ", "_"), balance)
        await self._sio.emit("balance", {"name": self.name, "balance": balance})
