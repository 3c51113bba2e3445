"""The controller's MQTT side: live device/lock state and commands that wait for the echo.

A lock is named by its device's prefix and its index (seed 004: ``$prefix/machine-access/$lock``).
A command is published with a fresh request id; only a ``locked`` message from that prefix and
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
from shared.mqtt.topics import AccessTopics, parse_topic

__all__ = [
    "CommandFailed",
    "CommandTimeout",
    "DeviceRefused",
    "DeviceState",
    "Echo",
    "LockLink",
    "LockState",
    "PrefixState",
    "new_request",
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
    """What a device said about itself on ``$prefix/device/$id/...``."""

    online: bool | None = None
    name: str | None = None
    firmware: str | None = None
    ip: str | None = None


@dataclass
class PrefixState:
    """Everything seen under one device prefix: its device(s), lock states, last status."""

    devices: dict[str, DeviceState] = field(default_factory=dict)
    locks: dict[int, LockState] = field(default_factory=dict)
    last_status: dict[str, str] | None = None


@dataclass(frozen=True)
class Echo:
    """The device's confirmation of one command."""

    prefix: str
    lock: int
    state: str
    request: str
    seconds: float


#: How many prefixes and devices per prefix the controller remembers (memory stays bounded
#: whatever is published under the root).
MAX_PREFIXES = 10_000
MAX_DEVICES_PER_PREFIX = 16
MAX_LOCKS_PER_PREFIX = 1000


def new_request() -> str:
    """A fresh request id for a command (seed 004 echoes it in ``locked``)."""
    return secrets.token_hex(8)


class LockLink:
    """Consumes device topics from one MqttClient and sends lock commands through it.

    It reads everything under ``root`` (where devices with the default prefix
    ``{root}/{device_id}`` live) and under every prefix passed to :meth:`watch`.
    """

    def __init__(self, client: MqttClient, root: str) -> None:
        self.client = client
        self.root = root
        self.prefixes: dict[str, PrefixState] = {}
        self._watched: set[str] = set()
        self._pending: dict[tuple[str, int, str], tuple[str, asyncio.Future[Echo]]] = {}

    async def run(self) -> None:
        """Subscribe and apply every message until cancelled."""
        await self.client.subscribe(f"{self.root}/#", qos=1)
        async for message in self.client.messages():
            try:
                self.handle(message)
            except Exception:  # one bad message must not stop the controller
                log.exception("event=mqtt_message_failed topic=%s", message.topic)

    def _covered(self, prefix: str) -> bool:
        return prefix == self.root or prefix.startswith(self.root + "/") or prefix in self._watched

    async def watch(self, prefix: str) -> None:
        """Also read a device prefix outside the root (subscriptions survive reconnects)."""
        if self._covered(prefix):
            return
        self._watched.add(prefix)
        await self.client.subscribe(f"{prefix}/#", qos=1)

    def state(self, prefix: str) -> PrefixState | None:
        return self.prefixes.get(prefix)

    def device(self, prefix: str, device_id: str) -> DeviceState | None:
        state = self.prefixes.get(prefix)
        return state.devices.get(device_id) if state is not None else None

    def _state(self, prefix: str) -> PrefixState | None:
        state = self.prefixes.get(prefix)
        if state is None and len(self.prefixes) < MAX_PREFIXES:
            state = self.prefixes[prefix] = PrefixState()
        return state

    def handle(self, message: Message) -> None:
        parsed = parse_topic(message.topic)
        if parsed is None:
            return
        prefix = parsed.prefix
        if not self._covered(prefix):
            return
        state = self._state(prefix)
        if parsed.device_id is not None:
            if state is None:
                return
            device = state.devices.get(parsed.device_id)
            if device is None:
                if len(state.devices) >= MAX_DEVICES_PER_PREFIX:
                    return
                device = state.devices[parsed.device_id] = DeviceState()
            if parsed.field == "online":
                device.online = message.payload == b"1"
                log.info(
                    "event=device_online prefix=%s device=%s online=%s",
                    prefix,
                    parsed.device_id,
                    device.online,
                )
            else:
                setattr(device, parsed.field, message.text[:200])
        elif parsed.field == "locked" and parsed.lock is not None:
            self._on_locked(prefix, state, parsed.lock, message)
        elif parsed.field == "status":
            self._on_status(prefix, state, parsed.lock, message)

    def _on_locked(
        self, prefix: str, state: PrefixState | None, lock: int, message: Message
    ) -> None:
        try:
            fields = decode(message.payload)
        except PayloadError as error:
            log.warning("event=bad_lock_state prefix=%s lock=%d reason=%s", prefix, lock, error)
            return
        value = fields.get("state")
        if value not in ("locked", "unlocked"):
            log.warning("event=bad_lock_state prefix=%s lock=%d", prefix, lock)
            return
        request = fields.get("request")
        if state is not None and (lock in state.locks or len(state.locks) < MAX_LOCKS_PER_PREFIX):
            state.locks[lock] = LockState(value, request, time.time())
        if request is None:
            return
        pending = self._pending.pop((prefix, lock, request), None)
        if pending is None:
            return
        wanted, future = pending
        if future.done():
            return
        if value == wanted:
            future.set_result(Echo(prefix, lock, value, request, 0.0))
        else:
            future.set_exception(DeviceRefused(f"device reported {value} for request {request}"))

    def _on_status(
        self, prefix: str, state: PrefixState | None, lock: int | None, message: Message
    ) -> None:
        try:
            fields = decode(message.payload)
        except PayloadError:
            return
        if state is not None:
            state.last_status = fields
        request = fields.get("request")
        log.info(
            "event=device_status prefix=%s lock=%s level=%s", prefix, lock, fields.get("level")
        )
        if request is None or lock is None:
            return
        pending = self._pending.pop((prefix, lock, request), None)
        if pending is not None and not pending[1].done():
            reason = fields.get("message", "device refused the command")
            pending[1].set_exception(DeviceRefused(reason))

    async def command(
        self, prefix: str, lock: int, command: str, timeout: float, request: str | None = None
    ) -> Echo:
        """Publish lock/unlock and wait for the matching echo; CommandFailed otherwise.

        ``request`` is the request id to use (:func:`new_request`), for a caller that records
        it before the echo arrives; a fresh one by default.
        """
        if command not in ("lock", "unlock"):
            raise ValueError(command)
        wanted = "locked" if command == "lock" else "unlocked"
        request = request or new_request()
        key = (prefix, lock, request)
        future: asyncio.Future[Echo] = asyncio.get_running_loop().create_future()
        self._pending[key] = (wanted, future)
        started = time.perf_counter()
        try:
            topic = AccessTopics(prefix).command(lock)
            await self.client.publish(
                topic, encode({"request": request, "command": command}), qos=1
            )
            echo = await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise CommandTimeout(
                f"the device at {prefix} did not confirm {command} of lock {lock}"
                f" within {timeout:g} s"
            ) from None
        finally:
            self._pending.pop(key, None)
        return Echo(prefix, lock, echo.state, request, time.perf_counter() - started)

    async def refresh(self, prefix: str) -> None:
        await self.client.publish(
            AccessTopics(prefix).refresh, encode({"command": "refresh"}), qos=1
        )
