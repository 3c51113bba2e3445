"""The controller's MQTT side: live device/lock state and commands that wait for the echo.

A command is published with a fresh request id; only a ``locked`` message from that device and
lock carrying the same request id and the wanted state completes it. A status message with
that request id fails it with the device's reason; silence fails it with a timeout. So the
controller never reports an unlock the device did not confirm.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass, field

from shared.mqtt.client import Message, MqttClient
from shared.mqtt.codec import PayloadError, decode, encode
from shared.mqtt.topics import DeviceTopics, parse_topic

__all__ = [
    "CommandFailed",
    "CommandTimeout",
    "DeviceRefused",
    "DeviceState",
    "LockLink",
    "LockState",
]

log = logging.getLogger("services.lock.link")


class CommandFailed(Exception):
    """A lock command was not confirmed by the device."""


class CommandTimeout(CommandFailed):
    pass


class DeviceRefused(CommandFailed):
    pass


@dataclass
class LockState:
    state: str
    request: str | None
    at: float


@dataclass
class DeviceState:
    online: bool | None = None
    name: str | None = None
    firmware: str | None = None
    ip: str | None = None
    locks: dict[int, LockState] = field(default_factory=dict)
    last_status: dict[str, str] | None = None


@dataclass(frozen=True)
class Echo:
    """The device's confirmation of one command."""

    device_id: str
    lock: int
    state: str
    request: str
    seconds: float


class LockLink:
    """Consumes device topics from one MqttClient and sends lock commands through it."""

    def __init__(self, client: MqttClient, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self.devices: dict[str, DeviceState] = {}
        self._pending: dict[tuple[str, int, str], tuple[str, asyncio.Future[Echo]]] = {}

    async def run(self) -> None:
        """Subscribe and apply every message until cancelled."""
        await self.client.subscribe(f"{self.prefix}/device/#", qos=1)
        async for message in self.client.messages():
            try:
                self.handle(message)
            except Exception:  # one bad message must not stop the controller
                log.exception("event=mqtt_message_failed topic=%s", message.topic)

    def device(self, device_id: str) -> DeviceState:
        return self.devices.setdefault(device_id, DeviceState())

    def handle(self, message: Message) -> None:
        parsed = parse_topic(self.prefix, message.topic)
        if parsed is None:
            return
        device = self.device(parsed.device_id)
        if parsed.field == "online":
            device.online = message.payload == b"1"
            log.info("event=device_online device=%s online=%s", parsed.device_id, device.online)
        elif parsed.field in ("name", "firmware", "ip"):
            setattr(device, parsed.field, message.text[:200])
        elif parsed.field == "locked" and parsed.lock is not None:
            self._on_locked(parsed.device_id, parsed.lock, message)
        elif parsed.field == "status":
            self._on_status(parsed.device_id, parsed.lock, message)

    def _on_locked(self, device_id: str, lock: int, message: Message) -> None:
        try:
            fields = decode(message.payload)
        except PayloadError as error:
            log.warning("event=bad_lock_state device=%s lock=%d reason=%s", device_id, lock, error)
            return
        state = fields.get("state")
        if state not in ("locked", "unlocked"):
            log.warning("event=bad_lock_state device=%s lock=%d", device_id, lock)
            return
        request = fields.get("request")
        self.device(device_id).locks[lock] = LockState(state, request, time.time())
        if request is None:
            return
        pending = self._pending.pop((device_id, lock, request), None)
        if pending is None:
            return
        wanted, future = pending
        if future.done():
            return
        if state == wanted:
            future.set_result(Echo(device_id, lock, state, request, 0.0))
        else:
            future.set_exception(DeviceRefused(f"device reported {state} for request {request}"))

    def _on_status(self, device_id: str, lock: int | None, message: Message) -> None:
        try:
            fields = decode(message.payload)
        except PayloadError:
            return
        self.device(device_id).last_status = fields
        request = fields.get("request")
        log.info(
            "event=device_status device=%s lock=%s level=%s", device_id, lock, fields.get("level")
        )
        if request is None or lock is None:
            return
        pending = self._pending.pop((device_id, lock, request), None)
        if pending is not None and not pending[1].done():
            reason = fields.get("message", "device refused the command")
            pending[1].set_exception(DeviceRefused(reason))

    async def command(self, device_id: str, lock: int, command: str, timeout: float) -> Echo:
        """Publish lock/unlock and wait for the matching echo; CommandFailed otherwise."""
        if command not in ("lock", "unlock"):
            raise ValueError(command)
        wanted = "locked" if command == "lock" else "unlocked"
        request = secrets.token_hex(8)
        key = (device_id, lock, request)
        future: asyncio.Future[Echo] = asyncio.get_running_loop().create_future()
        self._pending[key] = (wanted, future)
        started = time.perf_counter()
        try:
            topic = DeviceTopics(self.prefix, device_id).command(lock)
            await self.client.publish(
                topic, encode({"request": request, "command": command}), qos=1
            )
            echo = await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise CommandTimeout(
                f"device {device_id} did not confirm {command} of lock {lock} within {timeout:g} s"
            ) from None
        finally:
            self._pending.pop(key, None)
        return Echo(device_id, lock, echo.state, request, time.perf_counter() - started)

    async def refresh(self, device_id: str) -> None:
        await self.client.publish(
            DeviceTopics(self.prefix, device_id).refresh, encode({"command": "refresh"}), qos=1
        )
