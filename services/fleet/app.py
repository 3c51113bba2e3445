"""The fleet's ASGI app: N machines of one kind behind one server, each under ``/m/<name>/``.

Each hosted machine is the very app the single service builds (shared/robot.py,
shared/provider.py): its routes, its Socket.IO server, its processor, wallet, SQLite file
and books. The fleet only shares what is the same for all of them: the event loop and its
worker threads, one ZMQ subscription (services/fleet/feed.py), one probe of the node, one
node client for the wallets and one HTTP client for the robots' calls to their providers.

Routing: ``/m/<name>/rest`` goes to machine ``<name>`` as ``/rest`` with ``root_path``
``/m/<name>`` (what a reverse proxy does), so a client speaks to it exactly as to the
single machine at ``<base>/m/<name>``; its Socket.IO endpoint is ``/m/<name>/sockets``
(the machine's own ``socketio_path``) and ``/m/<name>/socket.io`` (the library default).
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from iota.adapter import HttpAdapter
from starlette.types import ASGIApp, Receive, Scope, Send

from services.fleet.config import FleetPlan, HostedSettings
from services.fleet.feed import FeedHub
from shared.db import make_engine
from shared.energy.source import EnergySourceSettings
from shared.health import Probe, node_probe
from shared.machine.app import default_wallet
from shared.machine.provider_link import HttpProviderLink
from shared.machine.settings import MachineSettings
from shared.machine.watcher import FeedFactory
from shared.migrations import Store, upgrade
from shared.provider import create_provider_app
from shared.robot import RobotSettings, create_robot_app

__all__ = ["Fleet", "HostedMachine"]

log = logging.getLogger("fleet")

# Worker threads of the whole fleet (every machine's database and wallet calls run in them,
# shared.db.run_db / asyncio.to_thread). asyncio's default is min(32, cores + 4): 6 here,
# too few for hundreds of machines whose node calls wait on the network.
WORKER_THREADS = 32
# Machines started at once: their start is mostly migrations in worker threads, so more
# at once only queue for the GIL and make each machine's start slower to report.
START_CONCURRENCY = 8


@dataclass
class HostedMachine:
    """One machine of the fleet and the task that runs its lifespan."""

    name: str
    slug: str
    settings: MachineSettings
    asgi: ASGIApp
    api: FastAPI
    task: asyncio.Task[None] | None = None
    started: asyncio.Future[None] | None = field(default=None, repr=False)


def _sqlite_file(settings: MachineSettings) -> Path:
    """The machine's SQLite file (the fleet never gives a machine another database)."""
    return Path(settings.resolved_database_url().removeprefix("sqlite:///"))


def _stores(kind: str) -> list[Store]:
    """What a machine of ``kind`` migrates at its start, in the same order."""
    from shared.channels.core import STORE as CHANNELS
    from shared.iota.wallet.tables import STORE as WALLET
    from shared.machine.channel_payment import STORE as MACHINE_CHANNELS
    from shared.machine.store import STORE as ORDERS

    return [ORDERS, WALLET] if kind == "robot" else [ORDERS, WALLET, CHANNELS, MACHINE_CHANNELS]


def _default_feed(plan: FleetPlan) -> FeedFactory:
    from shared.iota.zmq_feed import ZmqFeed

    return lambda: ZmqFeed(plan.iota_zmq_url, topics=("tx", "sn"))


class Fleet:
    """The ASGI app of a fleet (served by uvicorn with ``lifespan="on"``)."""

    def __init__(self, plan: FleetPlan, *, feed_factory: FeedFactory | None = None) -> None:
        self.plan = plan
        self.hub = FeedHub(feed_factory or _default_feed(plan))
        self.node = Probe("devnet", node_probe(plan.iota_node_url))
        # PyOTA's HttpAdapter keeps no state between calls: one serves every wallet.
        self._adapter = HttpAdapter(plan.iota_node_url, timeout=plan.iota_node_timeout)
        self._http = httpx.AsyncClient(timeout=10.0)
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.started_in: float | None = None
        self.machines: dict[str, HostedMachine] = {}
        for hosted in plan.machines:
            asgi = self._build(hosted)
            api = asgi.other_asgi_app  # type: ignore[attr-defined]
            assert isinstance(api, FastAPI)
            self.hub.add(api.state.runtime.watcher)
            self.machines[hosted.slug] = HostedMachine(
                hosted.name, hosted.slug, hosted.settings, asgi, api
            )

    # ---- building the machines -----------------------------------------------------------

    def _wallet(self, settings: MachineSettings, database_url: str) -> Any:
        # The fleet's one node adapter (its request timeout is the adapter's).
        return default_wallet(settings, database_url, adapter=self._adapter)

    async def _node_check(self) -> str | None:
        """Every machine's devnet probe reads the fleet's one probe of the node."""
        return self.node.current_problem()

    def _build(self, hosted: HostedSettings) -> ASGIApp:
        options: dict[str, Any] = {
            "wallet_factory": self._wallet,
            "feed_factory": self.hub.connection,
            "node_check": self._node_check,
        }
        settings = hosted.settings
        if isinstance(settings, RobotSettings):
            token = settings.machine_token.get_secret_value() if settings.machine_token else None
            provider = HttpProviderLink(
                settings.provider_url, settings.iota_node_url, token=token, client=self._http
            )
            return create_robot_app(settings, provider=provider, **options)
        kind = self.plan.kind
        assert kind != "robot" and isinstance(settings, EnergySourceSettings)
        return create_provider_app(settings, kind, **options)

    # ---- lifespan ------------------------------------------------------------------------

    def _prepare(self) -> None:
        """Once for the whole fleet, before any machine starts (in a worker thread):
        migrate one empty database and copy it for every machine that has none yet. A
        machine's first start otherwise runs the same migrations of its order store,
        wallet (and a provider's channels) on its own file, ~150 ms each, almost all of a
        fleet's start. The copy is what those migrations make; the machine's own start
        then finds every store at head (shared/migrations, ``upgrade``)."""
        fresh = [m for m in self.machines.values() if not _sqlite_file(m.settings).exists()]
        if not fresh:
            return
        template = _sqlite_file(fresh[0].settings).with_name(".fleet-template.sqlite")
        template.unlink(missing_ok=True)
        engine = make_engine(f"sqlite:///{template}")
        try:
            for store in _stores(self.plan.kind):
                upgrade(engine, store)
        finally:
            engine.dispose()  # the last connection closed: the WAL is checkpointed in
        for machine in fresh:
            target = _sqlite_file(machine.settings)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(template, target)
        template.unlink()

    async def start(self) -> None:
        """Start the shared parts, then every machine (at most START_CONCURRENCY at once);
        a machine that cannot start fails the fleet's start, naming it."""
        began = time.monotonic()
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(WORKER_THREADS, thread_name_prefix="fleet"))
        await asyncio.to_thread(self._prepare)
        await self.node.check_once()
        self._tasks.append(asyncio.create_task(self.node.run(), name="fleet-node-probe"))
        self._tasks.append(asyncio.create_task(self.hub.run(), name="fleet-zmq"))
        gate = asyncio.Semaphore(START_CONCURRENCY)
        for machine in self.machines.values():
            machine.started = loop.create_future()
            machine.task = asyncio.create_task(self._host(machine, gate), name=machine.slug)
        for machine in self.machines.values():
            assert machine.started is not None
            try:
                await machine.started
            except Exception as error:
                raise RuntimeError(f"machine {machine.name} did not start: {error!r}") from error
        self.started_in = time.monotonic() - began
        log.info(
            "event=fleet_started kind=%s machines=%d seconds=%.1f",
            self.plan.kind,
            len(self.machines),
            self.started_in,
        )

    async def _host(self, machine: HostedMachine, gate: asyncio.Semaphore) -> None:
        """Run one machine's own lifespan in a task of its own, entered and left there."""
        assert machine.started is not None
        try:
            async with gate:
                context = machine.api.router.lifespan_context(machine.api)
                await context.__aenter__()
        except BaseException as error:
            if not machine.started.done():
                machine.started.set_exception(error)
            if isinstance(error, asyncio.CancelledError):
                raise
            return
        machine.started.set_result(None)
        try:
            await self._stopping.wait()
        finally:
            await context.__aexit__(None, None, None)

    async def stop(self) -> None:
        self._stopping.set()
        hosted = [m.task for m in self.machines.values() if m.task is not None]
        results = await asyncio.gather(*hosted, return_exceptions=True)
        for machine, result in zip(self.machines.values(), results, strict=False):
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                log.warning("event=machine_stop_failed name=%s error=%r", machine.slug, result)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._http.aclose()
        log.info("event=fleet_stopped machines=%d", len(self.machines))

    # ---- ASGI ----------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        path: str = scope["path"]
        if path.startswith("/m/"):
            name, _, rest = path[3:].partition("/")
            machine = self.machines.get(name)
            if machine is not None:
                await machine.asgi(self._child_scope(scope, name, "/" + rest), receive, send)
                return
            await self._answer(scope, send, 404, {"detail": f"no machine {name} in this fleet"})
            return
        if path == "/" and scope["type"] == "http":
            await self._answer(scope, send, 200, self.index())
            return
        if path == "/health" and scope["type"] == "http":
            down = self.down()
            await self._answer(
                scope,
                send,
                503 if down else 200,
                {"status": "unhealthy" if down else "ok", "down": down, **self.counts()},
            )
            return
        await self._answer(scope, send, 404, {"detail": "not found; machines are under /m/"})

    @staticmethod
    def _child_scope(scope: Scope, name: str, rest: str) -> Scope:
        if rest == "/socket.io" or rest.startswith("/socket.io/"):
            rest = "/sockets" + rest[len("/socket.io") :]
        child = dict(scope)
        child["path"] = rest
        child["raw_path"] = rest.encode()
        child["root_path"] = scope.get("root_path", "") + "/m/" + name
        return child

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.start()
                except Exception as error:
                    log.error("event=fleet_start_failed error=%s", error)
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    @staticmethod
    async def _answer(scope: Scope, send: Send, status: int, body: dict[str, Any]) -> None:
        if scope["type"] != "http":  # a websocket to nowhere: refuse the handshake
            await send({"type": "websocket.close", "code": 1008})
            return
        data = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(data)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": data})

    # ---- what the fleet reports ----------------------------------------------------------

    def counts(self) -> dict[str, Any]:
        started = sum(
            1 for m in self.machines.values() if m.started is not None and m.started.done()
        )
        return {
            "kind": self.plan.kind,
            "machines": len(self.machines),
            "started": started,
            "startSeconds": None if self.started_in is None else round(self.started_in, 2),
            "zmqConnected": self.hub.connected,
        }

    def index(self) -> dict[str, Any]:
        """``GET /``: the fleet and every machine's name and path."""
        return {
            **self.counts(),
            "hosted": [{"name": m.name, "path": f"/m/{m.slug}"} for m in self.machines.values()],
        }

    def down(self) -> dict[str, str]:
        """What makes the fleet unusable: the node, the feed, machines not started."""
        down: dict[str, str] = {}
        problem = self.node.current_problem()
        if problem is not None:
            down["devnet"] = problem
        if not self.hub.connected:
            down["zmq"] = "not connected to the node's ZMQ feed"
        waiting = [
            m.name for m in self.machines.values() if m.started is None or not m.started.done()
        ]
        if waiting:
            down["machines"] = f"{len(waiting)} not started (first: {waiting[0]})"
        return down
