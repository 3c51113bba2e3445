"""The devnet's ZMQ PUB socket: IRI's one-frame lines, formatted by shared.iota.zmq_lines."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

import zmq

from shared.iota.zmq_lines import ZmqEvent, format_event

__all__ = ["ZmqPublisher"]

log = logging.getLogger("devnet.zmq")


class ZmqPublisher:
    """Publishes events from any thread (a ZMQ socket is not thread-safe, hence the lock)."""

    def __init__(self, host: str, port: int) -> None:
        self._context: zmq.Context[zmq.Socket[bytes]] = zmq.Context.instance()
        self._socket = self._context.socket(zmq.PUB)
        self._socket.setsockopt(zmq.LINGER, 0)
        # Slow subscribers must not make the node buffer without bound.
        self._socket.setsockopt(zmq.SNDHWM, 100_000)
        bind_host = "*" if host in ("0.0.0.0", "::") else host
        self._socket.bind(f"tcp://{bind_host}:{port}")
        self._lock = threading.Lock()
        self.published = 0

    def publish(self, events: Iterable[ZmqEvent]) -> None:
        lines = [format_event(event).encode("ascii") for event in events]
        with self._lock:
            for line in lines:
                try:
                    self._socket.send(line, zmq.NOBLOCK)
                except zmq.Again:
                    log.warning("event=zmq_dropped reason=high_water_mark")
            self.published += len(lines)

    def close(self) -> None:
        with self._lock:
            self._socket.close(0)
