"""Run a scenario on the real services: the devnet, every machine as its own process, and
customers that order over Socket.IO and pay on the devnet.

The run, in order: start the devnet (own coordinator, faucet behind a token), the energy
market (grid, producers, sources, households, batteries) and the providers, then the robots
(each pointed at its provider); place every planned order at its simulated time (customers
are paid for by the devnet's faucet, the economy's bank); after the duration, wait for the
open orders to finish and the run's slices to be settled and paid (``drain`` seconds at
most); audit the economy (every machine's books against its wallet, all balances against
the supply); stop the energy parties and read the grid's final books once it is quiet;
stop every process; write the run folder (report.py). Ctrl-C stops placing orders and goes
straight to the drain, the audit and the report, which then says the run was interrupted.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import socketio

from services.scenario.energy import (
    EnergyFigures,
    collect_prices,
    energy_env,
    read_figures,
    wait_quiet_grid,
    wait_settled,
)
from services.scenario.fleets import Fleet, fleet_groups
from services.scenario.plan import Arrival, MachinePlan, Plan, make_plan
from services.scenario.schema import Scenario
from shared.economy import EconomyAudit, wait_balanced
from shared.process import ManagedProcess, free_port

__all__ = ["Event", "RunResult", "ScenarioRun"]

log = logging.getLogger("scenario")

_TRYTES = "9ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_TERMINAL = ("done", "failed", "expired")


def _seed() -> str:
    return "".join(secrets.choice(_TRYTES) for _ in range(81))


@dataclass
class Event:
    """One line of events.csv."""

    real: float  # seconds since the run started
    simulated: float  # seconds of simulated time
    kind: str  # order_placed, order_paid, order_done, order_failed, error, sample, ...
    machine: str = ""
    order_id: str = ""
    value: int = 0
    latency: float | None = None  # seconds, for finished orders
    detail: str = ""


@dataclass
class Service:
    plan: MachinePlan
    url: str  # the machine's REST base (a fleet's machine: <fleet>/m/<name>)
    process: ManagedProcess
    process_name: str = ""  # the process's label in the samples (a fleet: fleet:<group>)
    socket_url: str = ""  # where its Socket.IO server listens, and its path there
    socket_path: str = "sockets"

    def __post_init__(self) -> None:
        self.process_name = self.process_name or self.plan.name
        self.socket_url = self.socket_url or self.url


@dataclass
class RunResult:
    scenario: Scenario
    plan: Plan
    events: list[Event]
    samples: list[dict[str, Any]]
    audit: EconomyAudit | None
    audit_text: str
    started_seconds: float
    real_seconds: float
    interrupted: bool
    books: dict[str, dict[str, Any]] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    energy: EnergyFigures | None = None


class ScenarioRun:
    """One run of one scenario into ``folder`` (the caller writes the report from the result)."""

    def __init__(
        self,
        scenario: Scenario,
        folder: Path,
        *,
        drain: float = 120.0,
        workers: int = 32,
        start_timeout: float = 300.0,
        progress: Callable[[float, dict[str, int]], None] | None = None,
    ) -> None:
        self.scenario = scenario
        self.plan = make_plan(scenario)
        self.folder = folder
        self.drain = drain
        self.workers = workers
        self.start_timeout = start_timeout
        self.progress = progress
        self.events: list[Event] = []
        self.samples: list[dict[str, Any]] = []
        self.counts = {"placed": 0, "done": 0, "failed": 0, "errors": 0}
        self.orders: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._t0 = 0.0
        # set when the duration is over: no customer follows its order past it
        self._drain_deadline = float("inf")
        self.services: dict[str, Service] = {}
        self.urls: dict[str, str] = {}
        self.energy: EnergyFigures | None = None
        self.epoch_ms = 0
        self.faucet_token = secrets.token_hex(16)
        self.machine_token = secrets.token_hex(16)
        self.devnet: ManagedProcess | None = None
        self.devnet_url = ""
        self.fleets: dict[str, Fleet] = {}

    # -- clock and records ------------------------------------------------------

    def _now(self) -> tuple[float, float]:
        real = time.monotonic() - self._t0
        return real, real * self.scenario.clock.time_scale

    def record(self, kind: str, **fields: Any) -> None:
        real, simulated = self._now()
        with self._lock:
            self.events.append(Event(round(real, 3), round(simulated, 1), kind, **fields))

    def interrupt(self) -> None:
        """Stop placing orders (Ctrl-C): drain, audit and report what ran."""
        self._stop.set()

    # -- processes ----------------------------------------------------------------

    def _start_devnet(self) -> None:
        port, zmq_port = free_port(), free_port()
        clock = self.scenario.clock
        env = {k: v for k, v in os.environ.items() if not k.startswith("DEVNET_")}
        env.update(
            {
                "DEVNET_HOST": "127.0.0.1",
                "DEVNET_PORT": str(port),
                "DEVNET_ZMQ_PORT": str(zmq_port),
                "DEVNET_MWM": str(clock.mwm),
                "DEVNET_MILESTONE_INTERVAL": str(clock.milestone_interval),
                "DEVNET_DATA_DIR": str(self.folder / "devnet"),
                "DEVNET_FAUCET_TOKEN": self.faucet_token,
            }
        )
        self.devnet_url = f"http://127.0.0.1:{port}"
        self.zmq_url = f"tcp://127.0.0.1:{zmq_port}"
        self.devnet = ManagedProcess(
            "devnet",
            ["-m", "services.devnet"],
            env=env,
            log_path=self.folder / "logs" / "devnet.log",
            inherit_env=False,
        )

        def ready() -> str | None:
            return None if self._milestone(timeout=2) >= 1 else "no milestone"

        self.devnet.start(ready, timeout=self.start_timeout)

    def _milestone(self, timeout: float) -> int:
        """The devnet's latest milestone index (getNodeInfo)."""
        info = httpx.post(
            self.devnet_url,
            json={"command": "getNodeInfo"},
            headers={"X-IOTA-API-Version": "1"},
            timeout=timeout,
        ).json()
        return int(info.get("latestMilestoneIndex", 0))

    def _machine_env(self, machine: MachinePlan, port: int) -> dict[str, str]:
        scale = self.scenario.clock.time_scale
        env = {
            "NAME": machine.name,
            "SEED": _seed(),
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "IOTA_NODE_URL": self.devnet_url,
            "IOTA_ZMQ_URL": self.zmq_url,
            "DATA_DIR": str(self.folder / "data" / machine.name),
            "MIN_WEIGHT_MAGNITUDE": str(self.scenario.clock.mwm),
            "LOG_LEVEL": "WARNING",
            "RATE_LIMIT_PER_SECOND": "1000",
            "RATE_LIMIT_BURST": "2000",
        }
        if machine.energy:
            env.update(
                energy_env(
                    machine,
                    self.plan,
                    self.urls,
                    epoch_ms=self.epoch_ms,
                    faucet_url=self.devnet_url,
                    faucet_token=self.faucet_token,
                )
            )
        if machine.kind not in ("robot", "wind", "solar"):
            return env
        env |= {
            "PRICE": str(machine.price),
            "WORK_SECONDS": str(round(machine.work_seconds / scale, 3)),
            "MACHINE_TOKEN": self.machine_token,
            "POLL_INTERVAL": "1.0",
            # the customers all come from this one process: no per-client order limits,
            # a queue as long as the scenario may need
            "MAX_ORDERS_PER_CONNECTION": "0",
            "MAX_ORDERS_PER_ADDRESS": "0",
            "MAX_QUEUE": "1000",
        }
        if machine.kind == "robot":
            provider = self.services[machine.provider or ""]  # started in the wave before
            env["PROVIDER_URL"] = provider.url
            env["PROVIDER_PAYMENT"] = machine.payment
            env["PROVIDER_SHARE"] = str(machine.provider_share)
        return env

    def _start_machine(self, machine: MachinePlan) -> Service:
        url = self.urls[machine.name]
        port = int(url.rsplit(":", 1)[1])
        process = ManagedProcess(
            machine.name,
            ["-m", f"services.{machine.kind}"],
            env=self._machine_env(machine, port),
            log_path=self.folder / "logs" / f"{machine.name}.log",
        )

        def ready() -> str | None:
            health = httpx.get(url + "/health", timeout=2).json()
            if health.get("status") == "ok" and health.get("machine_status") != "booting":
                return None
            return f"health: {health.get('status')}"

        service = Service(machine, url, process)
        with self._lock:
            self.services[machine.name] = service  # stop() reaches it even if it never starts
        process.start(ready, timeout=self.start_timeout)
        return service

    def _start_fleet(self, fleet: Fleet) -> None:
        env = {
            "FLEET_SEED": _seed(),
            "IOTA_NODE_URL": self.devnet_url,
            "IOTA_ZMQ_URL": self.zmq_url,
            "MIN_WEIGHT_MAGNITUDE": str(self.scenario.clock.mwm),
            "MACHINE_TOKEN": self.machine_token,
            "LOG_LEVEL": "WARNING",
            "RATE_LIMIT_PER_SECOND": "1000",
            "RATE_LIMIT_BURST": "2000",
        }
        process = fleet.process(self.folder, env, self.scenario.clock.time_scale, self.urls)
        label = f"fleet:{fleet.group}"
        with self._lock:  # stop() reaches them even if the fleet never starts
            for machine in fleet.machines:
                self.services[machine.name] = Service(
                    machine,
                    fleet.urls[machine.name],
                    process,
                    process_name=label,
                    socket_url=fleet.base_url,
                    socket_path=f"m/{fleet.slugs[machine.name]}/socket.io",
                )
        process.start(fleet.ready, timeout=self.start_timeout)

    def start(self) -> float:
        """Start the devnet and every machine; the seconds it took."""
        began = time.monotonic()
        self.folder.mkdir(parents=True, exist_ok=True)
        self._start_devnet()
        # Every machine's address is known before any starts: the energy parties name each
        # other (a source its producer, a buyer its grid) and retry until the other answers.
        ports: set[int] = set()
        while len(ports) < len(self.plan.machines):
            ports.add(free_port())  # a port handed out twice would start one machine only
        self.urls = {
            m.name: f"http://127.0.0.1:{port}"
            for m, port in zip(self.plan.machines, sorted(ports), strict=True)
        }
        # A fleet group is one process on its first machine's port; each machine is
        # served under /m/<name> there (services/fleet, docs/fleet.md).
        self.fleets = fleet_groups(self.plan.machines, self.urls)
        for fleet in self.fleets.values():
            self.urls.update(fleet.urls)
        if self.plan.slices or self.scenario.has_grid():
            # the energy clock starts at the next slice boundary (slice k, same kWh, any run)
            now = int(time.time() * 1000)
            self.epoch_ms = -(-now // self.plan.slice_ms) * self.plan.slice_ms
        # Providers first (a robot's settings name its provider's URL), each wave in
        # parallel: a machine spends its start-up importing and waiting for the node.
        for wave in (self.plan.providers(), self.plan.robots()):
            alone = [m for m in wave if not m.fleet]
            fleets = {m.group: self.fleets[m.group] for m in wave if m.fleet}
            with ThreadPoolExecutor(min(16, max(1, len(alone) + len(fleets)))) as starter:
                futures: list[Future[Any]] = [starter.submit(self._start_machine, m) for m in alone]
                futures += [starter.submit(self._start_fleet, f) for f in fleets.values()]
                for future in futures:
                    future.result()  # the first machine that failed to start stops the run
        return time.monotonic() - began

    def stop(self) -> None:
        # a fleet's process serves many machines: stopped once
        processes = {id(s.process): s.process for s in reversed(list(self.services.values()))}
        for process in processes.values():
            with contextlib.suppress(Exception):
                process.stop(timeout=15)
        if self.devnet is not None:
            with contextlib.suppress(Exception):
                self.devnet.stop(timeout=15)

    # -- customers ----------------------------------------------------------------

    def _faucet(self, address: str, value: int) -> None:
        """Pay an order from the faucet. It pays one transfer per milestone (each spends
        its address, so the next waits for the confirmation) and answers 503 meanwhile:
        wait and ask again, for up to five minutes."""
        deadline = time.monotonic() + 300
        while True:
            reply = httpx.post(
                f"{self.devnet_url}/faucet",
                json={"address": address, "value": value},
                headers={"Authorization": f"Bearer {self.faucet_token}"},
                timeout=120,
            )
            if reply.status_code != 503 or time.monotonic() > deadline:
                reply.raise_for_status()
                return
            wait = reply.headers.get("Retry-After", "")
            time.sleep(float(wait) if wait.replace(".", "", 1).isdigit() else 0.5)

    def _customer(self, arrival: Arrival) -> None:
        """Order, pay, and follow the order to its end."""
        robot = self.services[arrival.robot]
        placed = time.monotonic()
        try:
            client = socketio.SimpleClient()
            client.connect(
                robot.socket_url, socketio_path=robot.socket_path, transports=["websocket"]
            )
            try:
                reply = client.call("order", {"product": "widget"}, timeout=60)
            finally:
                client.disconnect()
            if not isinstance(reply, dict) or "order_id" not in reply:
                raise RuntimeError(f"the robot refused the order: {reply}")
            order_id, price = str(reply["order_id"]), int(reply["price"])
            with self._lock:
                self.counts["placed"] += 1
            self.record("order_placed", machine=robot.plan.name, order_id=order_id, value=price)
            self._faucet(str(reply["address"]), price)
            self.record("order_paid", machine=robot.plan.name, order_id=order_id, value=price)
            state, body = self._follow(f"{robot.url}/orders/{order_id}")
            latency = time.monotonic() - placed
            with self._lock:
                self.counts["done" if state == "done" else "failed"] += 1
                self.orders[order_id] = {"robot": robot.plan.name, **body}
            self.record(
                f"order_{state}",
                machine=robot.plan.name,
                order_id=order_id,
                value=price,
                latency=round(latency, 3),
                detail=str(body.get("message", ""))[:200],
            )
        except Exception as error:
            with self._lock:
                self.counts["errors"] += 1
            self.record("error", machine=robot.plan.name, detail=f"{type(error).__name__}: {error}")
            log.warning("customer of %s: %s", robot.plan.name, error)

    def _follow(self, url: str) -> tuple[str, dict[str, Any]]:
        deadline = time.monotonic() + 600
        body: dict[str, Any] = {}
        while time.monotonic() < min(deadline, self._drain_deadline):
            with contextlib.suppress(httpx.HTTPError, ValueError):
                body = httpx.get(url, timeout=30).json()
                if body.get("state") in _TERMINAL:
                    return str(body["state"]), body
            time.sleep(0.5)
        return "unfinished", body

    # -- sampling -------------------------------------------------------------------

    def _sample(self) -> None:
        real, simulated = self._now()
        row: dict[str, Any] = {"real": round(real, 2), "simulated": round(simulated, 1)}
        with contextlib.suppress(httpx.HTTPError, ValueError):
            row["milestone"] = self._milestone(timeout=5)
        processes = {"devnet": self.devnet} | {
            s.process_name: s.process for s in self.services.values()
        }
        for name, process in processes.items():
            if process is not None and process.pid is not None:
                row[f"rss_mb:{name}"], row[f"cpu_s:{name}"] = _proc_usage(process.pid)
        for name, service in self.services.items():
            with contextlib.suppress(httpx.HTTPError, ValueError):
                books = httpx.get(service.url + "/books", timeout=10).json()
                row[f"wallet:{name}"] = int(books["wallet"])
        if self.energy is not None:
            self._sample_energy(row)
        with self._lock:
            row.update({f"count:{k}": v for k, v in self.counts.items()})
            self.samples.append(row)

    def _sample_energy(self, row: dict[str, Any]) -> None:
        energy = self.energy
        assert energy is not None
        grid = next(m.name for m in self.plan.machines if m.kind == "grid")
        collect_prices(self.urls[grid], energy.prices)
        settled = [s for s in energy.prices if s >= energy.first_ms]
        if settled:
            row["price"] = energy.prices[max(settled)]["price"]
        with self._lock:
            self.counts["slices"] = len(settled)
        for machine in self.plan.machines:
            if machine.kind == "battery":
                with contextlib.suppress(httpx.HTTPError, ValueError):
                    state = httpx.get(self.urls[machine.name] + "/battery", timeout=5).json()
                    row[f"charge:{machine.name}"] = float(state["stateOfCharge"])

    # -- the run ----------------------------------------------------------------------

    def run(self) -> RunResult:
        started_seconds = 0.0
        try:
            started_seconds = self.start()
            self._t0 = time.monotonic()
            if self.scenario.has_grid():
                slice_ms = self.plan.slice_ms
                first = -(-int(time.time() * 1000) // slice_ms) * slice_ms
                self.energy = EnergyFigures(self.epoch_ms, slice_ms, first, first)
                self.counts["slices"] = 0
            self.record("started", detail=f"{len(self.services)} machines")
            self._drive()
            return self._finish(started_seconds)
        finally:
            self.stop()

    def _drive(self) -> None:
        scale = self.scenario.clock.time_scale
        sample_every = max(1.0, len(self.services) / 20)
        next_sample = 0.0
        with ThreadPoolExecutor(self.workers, thread_name_prefix="customer") as pool:
            pending = list(self.plan.arrivals)
            end = self.scenario.real_duration
            while not self._stop.is_set():
                real, simulated = self._now()
                while pending and pending[0].at / scale <= real:
                    pool.submit(self._customer, pending.pop(0))
                if real >= next_sample:
                    self._sample()
                    next_sample = real + sample_every
                if self.progress is not None:
                    self.progress(min(simulated, self.scenario.duration), dict(self.counts))
                if real >= end:
                    break
                time.sleep(0.05)
            self.record("duration_over" if not self._stop.is_set() else "interrupted")
            if self.energy is not None:
                # the run's slices: those that ended by now
                now = int(time.time() * 1000)
                slice_ms = self.energy.slice_ms
                self.energy.cutoff_ms = max(self.energy.first_ms, now // slice_ms * slice_ms)
            self._drain_deadline = time.monotonic() + self.drain
            # the pool's exit waits for the customers' orders to end (each bounded)
            pool.shutdown(wait=True, cancel_futures=self._stop.is_set())
        self._sample()

    def _finish(self, started_seconds: float) -> RunResult:
        # The energy market never rests (households use and pay every slice): its parties'
        # books are read last, right before the devnet's balances, so that a bill paid
        # meanwhile (new remainder address, inputs spent) falls outside the snapshot. The
        # other machines are at rest after the drain and may take long to read (fleets).
        services = list(self.services.values())
        urls = [s.url for s in services if not s.plan.energy]
        urls += [s.url for s in services if s.plan.energy]
        grid = next((m.name for m in self.plan.machines if m.kind == "grid"), None)
        if self.energy is not None and grid is not None:
            try:
                wait_settled(self.energy, self.urls[grid], time.monotonic() + self.drain)
            except (httpx.HTTPError, ValueError, KeyError) as error:
                self.energy.failures.append(f"the grid's slices could not be read: {error}")
        audit: EconomyAudit | None = None
        audit_text = ""
        try:
            audit = wait_balanced(self.devnet_url, urls, timeout=self.drain)
            from shared.economy import render

            audit_text = render(audit)
        except Exception as error:
            audit_text = f"economy audit FAILED: the audit could not run: {error}"
        books: dict[str, dict[str, Any]] = {}
        for name, service in self.services.items():
            with contextlib.suppress(httpx.HTTPError, ValueError):
                books[name] = httpx.get(service.url + "/books", timeout=10).json()
        if self.energy is not None and grid is not None:
            self._finish_energy(self.energy, grid)
        real, _ = self._now()
        return RunResult(
            scenario=self.scenario,
            plan=self.plan,
            events=list(self.events),
            samples=list(self.samples),
            audit=audit,
            audit_text=audit_text,
            started_seconds=started_seconds,
            real_seconds=real,
            interrupted=self._stop.is_set(),
            books=books,
            orders=dict(self.orders),
            energy=self.energy,
        )

    def _finish_energy(self, energy: EnergyFigures, grid: str) -> None:
        """Read each party's energy figures, then stop the grid's buyers and sellers so its
        books come to rest, and read them (the report's grid totals are final)."""
        read_figures(energy, self.plan, self.urls)
        parties = [
            self.services[m.name]
            for m in self.plan.machines
            if m.energy and m.kind != "grid" and m.name in self.services
        ]
        with ThreadPoolExecutor(max(1, min(16, len(parties)))) as stopper:
            for service in parties:
                stopper.submit(service.process.stop, 15)
        try:
            deadline = time.monotonic() + self.drain
            energy.grid = wait_quiet_grid(self.urls[grid], self.plan, deadline)
        except (httpx.HTTPError, ValueError, KeyError) as error:
            energy.failures.append(f"the grid's books could not be read: {error}")


def _proc_usage(pid: int) -> tuple[float, float]:
    """(resident MB, CPU seconds) of a process from /proc; zeros where it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            rss_kb = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return round(rss_kb / 1024, 1), round((int(fields[11]) + int(fields[12])) / ticks, 2)
    except (OSError, StopIteration, ValueError, IndexError):
        return 0.0, 0.0
