"""An umqtt.simple-compatible MQTTClient for CPython, built on paho-mqtt.

Like umqtt.simple it never reconnects by itself: a lost connection surfaces as OSError from
``wait_msg``/``check_msg``/``publish`` and the firmware's loop decides what to do. Callbacks
run in the caller's thread (inside wait_msg/check_msg), as on a board, so the firmware stays
single-threaded. ``wait_msg`` returns None after ``poll_timeout`` seconds without traffic,
like umqtt with a socket timeout, so the loop can run timers.
"""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

__all__ = ["MQTTClient", "MQTTException"]


class MQTTException(OSError):
    """The broker refused the connection (umqtt raises MQTTException too)."""


def _no_delay(client: paho.Client, userdata: Any, sock: Any) -> None:
    # A lock echo is a few bytes; Nagle's algorithm would hold it back ~40 ms.
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


class MQTTClient:
    """The subset of umqtt.simple.MQTTClient used by the firmware."""

    def __init__(
        self,
        client_id: bytes | str,
        server: str,
        port: int = 0,
        user: bytes | str | None = None,
        password: bytes | str | None = None,
        keepalive: int = 0,
        ssl: bool = False,
        *,
        poll_timeout: float = 0.1,
        connect_timeout: float = 5.0,
    ) -> None:
        if ssl:
            raise ValueError("TLS is not supported by the host layer")
        self.client_id = _text(client_id)
        self.server = server
        self.port = port or 1883
        self.user = None if user is None else _text(user)
        self.password = None if password is None else _text(password)
        self.keepalive = keepalive or 60
        self.poll_timeout = poll_timeout
        self.connect_timeout = connect_timeout
        self.cb: Callable[[bytes, bytes], Any] | None = None
        self.lw: tuple[str, bytes, bool, int] | None = None
        self._paho: paho.Client | None = None
        self._inbox: queue.Queue[tuple[bytes, bytes]] = queue.Queue()
        self._lost = threading.Event()

    def set_callback(self, f: Callable[[bytes, bytes], Any]) -> None:
        self.cb = f

    def set_last_will(
        self, topic: bytes | str, msg: bytes | str, retain: bool = False, qos: int = 0
    ) -> None:
        payload = msg if isinstance(msg, bytes) else msg.encode("utf-8")
        self.lw = (_text(topic), payload, retain, qos)

    def connect(self, clean_session: bool = True) -> bool:
        self.disconnect()
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            clean_session=clean_session,
            protocol=paho.MQTTv311,
        )
        if self.user is not None:
            client.username_pw_set(self.user, self.password)
        if self.lw is not None:
            topic, payload, retain, qos = self.lw
            client.will_set(topic, payload, qos, retain)
        done = threading.Event()
        result: list[Any] = []

        def on_connect(c: paho.Client, u: Any, flags: Any, reason: Any, props: Any) -> None:
            result.append(reason)
            done.set()

        def on_disconnect(c: paho.Client, u: Any, flags: Any, reason: Any, props: Any) -> None:
            self._lost.set()
            done.set()

        def on_message(c: paho.Client, u: Any, msg: paho.MQTTMessage) -> None:
            self._inbox.put((msg.topic.encode("utf-8"), bytes(msg.payload)))

        client.on_connect = on_connect
        client.on_disconnect = on_disconnect
        client.on_message = on_message
        client.on_socket_open = _no_delay
        self._lost.clear()
        self._inbox = queue.Queue()
        try:
            client.connect(self.server, self.port, keepalive=self.keepalive)
        except OSError as error:
            raise OSError(f"cannot reach {self.server}:{self.port}: {error}") from None
        client.loop_start()
        self._paho = client
        if not done.wait(self.connect_timeout) or not result:
            self.disconnect()
            raise OSError("no CONNACK from broker")
        if result[0].is_failure:
            self.disconnect()
            raise MQTTException(f"connection refused: {result[0]}")
        return False

    def disconnect(self) -> None:
        client, self._paho = self._paho, None
        if client is not None:
            client.disconnect()
            client.loop_stop()

    def _client(self) -> paho.Client:
        if self._paho is None or self._lost.is_set():
            raise OSError("not connected")
        return self._paho

    def ping(self) -> None:
        # paho sends PINGREQ itself; this only reports a dead connection like umqtt would.
        self._client()

    def publish(
        self, topic: bytes | str, msg: bytes | str, retain: bool = False, qos: int = 0
    ) -> None:
        info = self._client().publish(_text(topic), msg, qos=qos, retain=retain)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise OSError(f"publish failed: {paho.error_string(info.rc)}")

    def subscribe(self, topic: bytes | str, qos: int = 0) -> None:
        rc, _mid = self._client().subscribe(_text(topic), qos)
        if rc != paho.MQTT_ERR_SUCCESS:
            raise OSError(f"subscribe failed: {paho.error_string(rc)}")

    def _deliver(self, timeout: float | None) -> bytes | None:
        try:
            topic, msg = self._inbox.get(timeout=timeout) if timeout else self._inbox.get_nowait()
        except queue.Empty:
            self._client()  # raise if the connection died while we were waiting
            return None
        if self.cb is not None:
            self.cb(topic, msg)
        return topic

    def wait_msg(self) -> bytes | None:
        """Handle one message, waiting at most poll_timeout; OSError if the connection died."""
        return self._deliver(self.poll_timeout)

    def check_msg(self) -> bytes | None:
        """Handle one pending message if there is one, without waiting."""
        return self._deliver(None)
