"""A small asyncio face over paho-mqtt: connect with a will, subscribe, iterate messages.

paho runs its network loop in its own thread and reconnects with exponential backoff
(``reconnect_min`` doubling up to ``reconnect_max``); this class hands its callbacks over to
the asyncio loop, remembers subscriptions and renews them after every reconnect. Publishing
while disconnected raises :class:`MqttError` instead of queueing, because a stale lock command
delivered minutes later is worse than a clear error now.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import socket
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from shared.mqtt.url import MqttUrl, parse_mqtt_url

__all__ = ["Message", "MqttClient", "MqttError", "Will", "set_no_delay"]

log = logging.getLogger("shared.mqtt")
_ids = itertools.count(1)


def set_no_delay(client: paho.Client, userdata: Any, sock: Any) -> None:
    # Commands and echoes are tiny; Nagle's algorithm would hold them back ~40 ms.
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class MqttError(Exception):
    """The broker is unreachable, refused us, or an operation failed."""


@dataclass(frozen=True, slots=True)
class Will:
    """The message the broker publishes for us when we vanish without a goodbye."""

    topic: str
    payload: bytes | str
    qos: int = 1
    retain: bool = True


@dataclass(frozen=True, slots=True)
class Message:
    """One received message."""

    topic: str
    payload: bytes
    qos: int
    retain: bool

    @property
    def text(self) -> str:
        return self.payload.decode("utf-8", errors="replace")


class MqttClient:
    """``async with MqttClient(url) as client: async for m in client.messages(): ...``."""

    def __init__(
        self,
        url: MqttUrl | str,
        *,
        client_id: str | None = None,
        will: Will | None = None,
        keepalive: int = 15,
        reconnect_min: float = 0.05,
        reconnect_max: float = 5.0,
        queue_size: int = 10_000,
    ) -> None:
        self.url = parse_mqtt_url(url) if isinstance(url, str) else url
        self.client_id = client_id or f"me-{os.getpid()}-{next(_ids)}"
        self.will = will
        self.keepalive = keepalive
        self._reconnect = (reconnect_min, reconnect_max)
        self._subscriptions: dict[str, int] = {}
        self._queue: asyncio.Queue[Message] = asyncio.Queue(maxsize=queue_size)
        self._connected = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._paho: paho.Client | None = None
        self.dropped = 0
        self.connects = 0
        self.last_error: str | None = None
        # ping(): UNSUBSCRIBE message ids waiting for their UNSUBACK
        self._pings: dict[int, asyncio.Future[None]] = {}
        self._pings_lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------------
    async def __aenter__(self) -> MqttClient:
        await self.start()
        return self

    async def __aexit__(self, *_exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Begin connecting in the background; see :meth:`wait_connected`."""
        if self._paho is not None:
            return
        self._loop = asyncio.get_running_loop()
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            clean_session=True,
            protocol=paho.MQTTv311,
        )
        if self.url.username is not None:
            client.username_pw_set(self.url.username, self.url.password)
        if self.will is not None:
            client.will_set(self.will.topic, self.will.payload, self.will.qos, self.will.retain)
        client.reconnect_delay_set(*self._reconnect)  # type: ignore[arg-type]
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_unsubscribe = self._on_unsubscribe
        client.on_socket_open = set_no_delay
        self._paho = client
        client.connect_async(self.url.host, self.url.port, keepalive=self.keepalive)
        client.loop_start()

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until the broker accepted us; raise MqttError after timeout seconds."""
        try:
            await asyncio.wait_for(self._connected.wait(), timeout)
        except TimeoutError:
            reason = f": {self.last_error}" if self.last_error else ""
            raise MqttError(f"not connected to {self.url.redacted()}{reason}") from None

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def close(self) -> None:
        """Disconnect cleanly (no will) and stop the network thread."""
        client, self._paho = self._paho, None
        if client is None:
            return
        client.disconnect()
        # loop_stop joins paho's thread; keep the event loop free while it does.
        await asyncio.to_thread(client.loop_stop)
        self._connected.clear()

    # -- operations ------------------------------------------------------------------------
    async def subscribe(self, topic: str, qos: int = 1) -> None:
        """Subscribe now if connected and again after every reconnect."""
        # Record first, then check paho's own state: either paho is already connected and we
        # subscribe here, or its on_connect has not run yet and will find the entry.
        self._subscriptions[topic] = qos
        if self._paho is not None and self._paho.is_connected():
            self._paho.subscribe(topic, qos)

    async def publish(
        self, topic: str, payload: bytes | str, *, qos: int = 1, retain: bool = False
    ) -> None:
        """Hand a message to the broker connection; MqttError when not connected."""
        if self._paho is None or not self._paho.is_connected():
            raise MqttError(f"not connected to {self.url.redacted()}")
        info = self._paho.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise MqttError(f"publish to {topic} failed: {paho.error_string(info.rc)}")

    async def ping(self, timeout: float) -> None:
        """A round trip to the broker: MqttError when it does not answer within
        ``timeout`` seconds. A stopped (not closed) broker keeps the TCP connection, so
        ``connected`` stays true until the keepalive runs out (1.5 x 15 s); the health probe
        asks this instead. It unsubscribes from a topic never subscribed: the broker must
        answer (UNSUBACK), no ACL is involved and nothing is delivered to anyone."""
        client = self._paho
        if client is None or not client.is_connected():
            raise MqttError(f"not connected to {self.url.redacted()}")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._pings_lock:
            rc, mid = client.unsubscribe(f"health-probe/{self.client_id}")
            if rc != paho.MQTT_ERR_SUCCESS or mid is None:
                raise MqttError(f"ping failed: {paho.error_string(rc)}")
            self._pings[mid] = future
        try:
            await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise MqttError(f"the broker did not answer within {timeout:g}s") from None
        finally:
            with self._pings_lock:
                self._pings.pop(mid, None)

    async def messages(self) -> AsyncIterator[Message]:
        """Yield received messages forever (across reconnects) until cancelled."""
        while True:
            yield await self._queue.get()

    # -- paho thread callbacks (hand everything to the asyncio loop) -----------------------
    def _call(self, fn: Any, *args: Any) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # loop closing during shutdown
                loop.call_soon_threadsafe(fn, *args)

    def _on_connect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if reason.is_failure:
            self.last_error = str(reason)
            log.warning("event=mqtt_refused broker=%s reason=%s", self.url.redacted(), reason)
            return
        for topic, qos in list(self._subscriptions.items()):
            client.subscribe(topic, qos)
        self.connects += 1
        self.last_error = None
        log.info("event=mqtt_connected broker=%s client=%s", self.url.redacted(), self.client_id)
        self._call(self._connected.set)

    def _on_disconnect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        log.info("event=mqtt_disconnected broker=%s reason=%s", self.url.redacted(), reason)
        self._call(self._connected.clear)

    def _on_unsubscribe(
        self, client: paho.Client, userdata: Any, mid: int, reasons: Any, props: Any
    ) -> None:
        with self._pings_lock:
            future = self._pings.get(mid)
        if future is not None:
            self._call(_settle, future)

    def _on_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        message = Message(msg.topic, bytes(msg.payload), msg.qos, bool(msg.retain))
        self._call(self._enqueue, message)

    def _enqueue(self, message: Message) -> None:
        try:
            self._queue.put_nowait(message)
        except asyncio.QueueFull:
            self.dropped += 1
            log.warning("event=mqtt_queue_full topic=%s dropped=%d", message.topic, self.dropped)
