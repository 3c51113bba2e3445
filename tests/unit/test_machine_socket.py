"""A robot app served by uvicorn, talked to by a real Socket.IO client (fake wallet and feed)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio
import uvicorn

from services.robot.settings import RobotSettings
from shared.machine.app import MachineRuntime, create_machine_app
from shared.machine.processor import MachineConfig
from tests.support.process import free_port
from tests.unit.test_machine_processor import FakeProvider, FakeWallet


class SilentFeed:
    """A ZMQ feed that never says anything: payments are found by the balance poll."""

    async def __aenter__(self) -> AsyncIterator[Any]:
        return self._events()

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def _events(self) -> AsyncIterator[Any]:
        await asyncio.Event().wait()
        yield None  # pragma: no cover


async def node_ok() -> str | None:
    return None


@contextlib.contextmanager
def served_robot(
    tmp_path: Path, *, order_timeout: float = 30, **overrides: Any
) -> Iterator[tuple[str, FakeWallet, MachineRuntime]]:
    """A robot app under uvicorn in a thread, booted: (url, its fake wallet, its runtime).

    ``overrides`` are RobotSettings fields (limits the hardening tests lower).
    """
    settings = RobotSettings(
        seed="A" * 81, name="robot 1", data_dir=tmp_path, port=free_port(), **overrides
    )
    wallet = FakeWallet()
    config = MachineConfig(
        name="robot 1",
        kind="product",
        price=100,
        work_seconds=0.05,
        order_timeout=order_timeout,
        poll_interval=0.05,
    )
    app = create_machine_app(
        settings,
        role="robot",
        config=config,
        provider=FakeProvider(),
        wallet_factory=lambda _s, _u: wallet,
        feed_factory=SilentFeed,
        node_check=node_ok,
    )
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=settings.port, log_config=None, ws="websockets-sansio"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    url = f"http://127.0.0.1:{settings.port}"
    # the processor announces it is ready a moment after the server is up
    while httpx.get(url + "/health", timeout=5).json()["machine_status"] == "booting":
        assert time.monotonic() < deadline + 10, "machine did not finish booting"
        time.sleep(0.02)
    runtime: MachineRuntime = app.other_asgi_app.state.runtime
    try:
        yield url, wallet, runtime
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def robot(tmp_path: Path) -> Iterator[tuple[str, FakeWallet]]:
    with served_robot(tmp_path) as (url, wallet, _runtime):
        yield url, wallet


class Recorder:
    def __init__(self, client: socketio.Client) -> None:
        self.events: list[tuple[str, Any]] = []
        for name in ("welcome", "status", "balance", "error", "queued"):
            client.on(name, self._handler(name))

    def _handler(self, name: str) -> Any:
        return lambda data=None: self.events.append((name, data))

    def wait(self, predicate: Any, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, f"timed out; events so far: {self.events}"
            time.sleep(0.02)

    def statuses(self) -> list[str]:
        return [d["status"] for e, d in self.events if e == "status"]


@contextlib.contextmanager
def connected(url: str) -> Iterator[tuple[socketio.Client, Recorder]]:
    client = socketio.Client(reconnection=False)
    recorder = Recorder(client)
    client.connect(url, socketio_path="sockets", transports=["websocket"])
    try:
        yield client, recorder
    finally:
        client.disconnect()


def test_http_routes(robot: tuple[str, FakeWallet]) -> None:
    url, _ = robot
    assert httpx.get(url + "/").json()["name"] == "robot 1"
    assert httpx.get(url + "/health").json()["status"] == "ok"
    assert httpx.get(url + "/docs").status_code == 200
    assert httpx.get(url + "/orders/nope").status_code == 404
    # robots do not sell energy
    assert httpx.post(url + "/energy-orders", json={}).status_code in (404, 405)


def test_welcome_order_and_bad_input_over_a_real_socket(robot: tuple[str, FakeWallet]) -> None:
    url, wallet = robot
    with connected(url) as (client, rec):
        rec.wait(lambda: any(e == "welcome" for e, _ in rec.events))
        assert rec.events[0] == ("welcome", {"name": "robot 1", "status": "waiting_for_order"})

        for bad in ("buy it", {"product": 7}, {"unknown": 1}):
            reply = client.call("order", bad, timeout=5)
            assert "error" in reply
        rec.wait(lambda: sum(e == "error" for e, _ in rec.events) == 3)
        reasons = [d["reason"] for e, d in rec.events if e == "error"]
        assert "JSON object" in reasons[0] and "product" in reasons[1] and "unknown" in reasons[2]
        assert httpx.get(url + "/orders").json() == []  # nothing stored for bad input

        reply = client.call("order", {"product": "headphones"}, timeout=5)
        assert reply["price"] == 100 and len(reply["address"]) == 81
        rec.wait(lambda: rec.statuses()[-1:] == ["waiting_for_tx"])
        wallet.balances[reply["address"]] = 100
        rec.wait(lambda: rec.statuses()[-1:] == ["waiting_for_order"])
        assert rec.statuses()[-5:] == [
            "waiting_for_tx",
            "waiting_for_tx_confirm",
            "payout_provider",
            "working",
            "waiting_for_order",
        ]
        assert ("balance", {"name": "robot 1", "balance": 100}) in rec.events
        order = httpx.get(f"{url}/orders/{reply['order_id']}").json()
        assert order["state"] == "done" and order["payout_value"] == 10

    # a client that joins later is welcomed with the real status and the last balance
    with connected(url) as (_client, late):
        late.wait(lambda: any(e == "balance" for e, _ in late.events))
        assert late.events[0] == ("welcome", {"name": "robot 1", "status": "waiting_for_order"})
