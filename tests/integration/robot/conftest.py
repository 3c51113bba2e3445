"""Fixtures for the robot integration tests: a real devnet, wind and a robot as processes.

The module runs once on SQLite and once on PostgreSQL (``databases``): every process gets a
database of its own on that backend (DATABASE_URL, DEVNET_DATABASE_URL).
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import socketio

from tests.integration.robot.machines import ServiceProcess, machine_env
from tests.support.audit import Economy
from tests.support.devnet import DevnetProcess, devnet_fixture
from tests.support.postgres import Databases


@pytest.fixture(scope="module")
def devnet(
    tmp_path_factory: pytest.TempPathFactory, databases: Databases
) -> Iterator[DevnetProcess]:
    extra_env = {"DEVNET_DATABASE_URL": databases.url("devnet")}
    with devnet_fixture(
        tmp_path_factory.mktemp("devnet"), milestone_interval=0.5, extra_env=extra_env
    ) as node:
        yield node


@pytest.fixture(scope="module")
def machine_token() -> str:
    return secrets.token_hex(16)


@pytest.fixture(scope="module")
def wind(
    devnet: DevnetProcess,
    tmp_path_factory: pytest.TempPathFactory,
    machine_token: str,
    databases: Databases,
) -> Iterator[ServiceProcess]:
    data = tmp_path_factory.mktemp("wind")
    env = machine_env(
        devnet,
        "wind",
        data,
        work_seconds=0.2,
        machine_token=machine_token,
        database_url=databases.url("wind"),
    )
    with ServiceProcess("wind", env, data) as process:
        yield process


@pytest.fixture(scope="module")
def economy(devnet: DevnetProcess, wind: ServiceProcess) -> Economy:
    """The module's economy audit (tests/support/audit.py): wind, and each test's robot."""
    economy = Economy(devnet.api_url)
    economy.add(wind.url)
    return economy


@pytest.fixture
def robot(
    devnet: DevnetProcess,
    wind: ServiceProcess,
    tmp_path: Path,
    machine_token: str,
    databases: Databases,
    economy: Economy,
) -> Iterator[ServiceProcess]:
    env = machine_env(
        devnet,
        "robot 1",
        tmp_path / "robot",
        provider_url=wind.url,
        price=100,
        work_seconds=0.2,
        machine_token=machine_token,
        database_url=databases.url(f"robot-{uuid.uuid4().hex[:8]}"),
    )
    process = ServiceProcess("robot", env, tmp_path / "robot")
    process.start()
    economy.add(process.url)
    try:
        yield process
    finally:
        if process.running:
            economy.retire(process.url)
        process.stop()


class SocketWatcher:
    """A python-socketio client that records every event a machine pushes."""

    def __init__(self, url: str) -> None:
        self.events: list[tuple[str, Any]] = []
        self.client = socketio.Client(reconnection=True, reconnection_delay=0.2)
        for name in ("welcome", "status", "balance", "error", "queued"):
            self.client.on(name, self._recorder(name))
        self.client.connect(url, socketio_path="sockets", transports=["websocket"])

    def _recorder(self, name: str) -> Any:
        return lambda data=None: self.events.append((name, data))

    def wait(self, predicate: Any, timeout: float = 30.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; events: {self.events}")
            time.sleep(0.02)

    def statuses(self, order_id: str | None = None) -> list[str]:
        return [
            d["status"]
            for e, d in self.events
            if e == "status" and (order_id is None or d.get("order_id") == order_id)
        ]

    def close(self) -> None:
        self.client.disconnect()


@pytest.fixture
def sockets() -> Iterator[Any]:
    opened: list[SocketWatcher] = []

    def open_socket(url: str) -> SocketWatcher:
        watcher = SocketWatcher(url)
        opened.append(watcher)
        return watcher

    yield open_socket
    for watcher in opened:
        watcher.close()
