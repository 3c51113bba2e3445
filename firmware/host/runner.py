"""Run the firmware on CPython: build the umqtt-like client and pins, loop until SIGTERM."""

from __future__ import annotations

import logging
import signal
import socket
import time
from types import FrameType

from firmware.host.machine import Pin
from firmware.host.settings import FirmwareSettings
from firmware.host.umqtt import MQTTClient
from firmware.lockdevice import LockDevice, run

__all__ = ["build_device", "main_loop"]

log = logging.getLogger("firmware")


def _local_ip(host: str, port: int) -> str:
    """The address we reach the broker from (what a board would report after DHCP)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.connect((host, port))
            return str(sock.getsockname()[0])
    except OSError:
        return "0.0.0.0"


def _ticks_ms() -> int:
    return time.monotonic_ns() // 1_000_000


def build_device(settings: FirmwareSettings) -> tuple[LockDevice, MQTTClient]:
    broker = settings.broker
    client = MQTTClient(
        settings.device_id,
        broker.host,
        broker.port,
        user=broker.username,
        password=broker.password,
        keepalive=settings.mqtt_keepalive,
    )
    relays = [Pin(index, Pin.OUT) for index in range(settings.device_locks)]
    device = LockDevice(
        client,
        relays,
        settings.device_id,
        settings.mqtt_prefix,
        name=settings.device_name,
        ip=settings.device_ip or _local_ip(broker.host, broker.port),
        relock_ms=int(settings.lock_auto_relock_seconds * 1000),
        ticks_ms=_ticks_ms,
        log=log.info,
    )
    return device, client


def main_loop(settings: FirmwareSettings) -> None:
    device, client = build_device(settings)

    def stop(signum: int, frame: FrameType | None) -> None:
        device.running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info(
        "event=device_start device=%s locks=%d broker=%s prefix=%s",
        settings.device_id,
        settings.device_locks,
        settings.broker.redacted(),
        settings.mqtt_prefix,
    )
    run(
        device,
        client,
        sleep_ms=lambda ms: time.sleep(ms / 1000),
        ticks_ms=_ticks_ms,
        keepalive_ms=settings.mqtt_keepalive * 1000,
    )
    log.info("event=device_stop device=%s", settings.device_id)
