"""Health that tells the truth: dependency probes and the one ``/`` and ``/health`` router.

A service's ``/health`` used to look only at its own background tasks, so a hung devnet
left it answering 200 while every node call waited 30 s (issue 20). Here each dependency
(the IOTA node, the MQTT broker, ledger peers, ...) is checked by a :class:`Probe` in the
background, every ``interval`` seconds, each check cut off after ``timeout`` seconds; the
route only reads the last result and its age, so it answers at once and never waits for
a dependency itself.

    health = Health()
    health.probe("devnet", node_probe(settings.iota_node_url))   # a dependency
    health.watch(supervisor.down)                                # parts that are down
    app.include_router(service_router("robot", health, status=lambda: "ok"))
    ...
    await health.start()      # in the lifespan (the probes run as tasks)
    await health.stop()

``GET /health`` answers 200 ``{"status": "ok", "name", "down": {}, "dependencies": {...}}``
or 503 with ``status`` "unhealthy" and ``down`` naming each dependency or part that is
not usable and why (``{"devnet": "no answer within 3s"}``). A hung dependency shows within
``interval + timeout`` seconds (5 s by default) and clears on the first good check.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from enum import Enum
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from shared.web import provide, provided

__all__ = [
    "PROBE_INTERVAL",
    "PROBE_TIMEOUT",
    "Check",
    "Health",
    "HealthReport",
    "Probe",
    "ServiceInfo",
    "http_probe",
    "node_probe",
    "service_router",
]

log = logging.getLogger("health")

# Seconds between two checks of a dependency, and how long one check may take. A hung
# dependency turns /health to 503 within their sum (5 s; issue 20 asks for 10 s).
PROBE_INTERVAL = 2.0
PROBE_TIMEOUT = 3.0

# A check returns None when the dependency is usable, else why not (raising counts too).
Check = Callable[[], Awaitable[str | None]]
DownSource = Callable[[], Mapping[str, str]]
Extra = Callable[[], Awaitable[dict[str, Any]] | dict[str, Any]]


@dataclass(eq=False)
class Probe:
    """One dependency, checked in the background; its last result and when it came."""

    name: str
    check: Check
    _: KW_ONLY
    interval: float = PROBE_INTERVAL
    timeout: float = PROBE_TIMEOUT
    problem: str | None = field(default="not checked yet", init=False)
    # time.monotonic() of the last finished check
    checked_at: float | None = field(default=None, init=False)

    async def check_once(self) -> str | None:
        try:
            async with asyncio.timeout(self.timeout):
                problem = await self.check()
        except TimeoutError:
            problem = f"no answer within {self.timeout:g}s"
        except Exception as error:  # any failure of the check is the dependency's problem
            problem = f"{type(error).__name__}: {error}"[:200]
        if problem != self.problem:
            if problem is None:
                log.info("event=dependency_up dependency=%s", self.name)
            else:
                log.warning("event=dependency_down dependency=%s reason=%r", self.name, problem)
        self.problem = problem
        self.checked_at = time.monotonic()
        return problem

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.check_once()

    def age(self) -> float | None:
        return None if self.checked_at is None else time.monotonic() - self.checked_at

    def current_problem(self) -> str | None:
        """The last result, unless it is too old to trust (the probe itself is stuck)."""
        age = self.age()
        if age is not None and age > 2 * (self.interval + self.timeout):
            return f"not checked for {age:.0f}s"
        return self.problem


class Health:
    """A service's dependencies (probes) and the other sources of "down" (supervisors)."""

    def __init__(self) -> None:
        self.probes: dict[str, Probe] = {}
        self._sources: list[DownSource] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.started = False

    def probe(
        self,
        name: str,
        check: Check,
        *,
        interval: float = PROBE_INTERVAL,
        timeout: float = PROBE_TIMEOUT,
    ) -> Probe:
        if name in self.probes:
            raise ValueError(f"probe {name} already added")
        probe = Probe(name, check, interval=interval, timeout=timeout)
        self.probes[name] = probe
        return probe

    def watch(self, source: DownSource) -> None:
        """Also report what ``source()`` names (``Supervisor.down``, a readiness check)."""
        self._sources.append(source)

    async def start(self) -> None:
        """Check every dependency once (at most ``timeout`` seconds), then keep checking
        in the background (call in the lifespan). Probes of a Health that was never
        started are not reported (an app served without its loops)."""
        await asyncio.gather(*(probe.check_once() for probe in self.probes.values()))
        self.started = True
        for probe in self.probes.values():
            self._tasks.append(asyncio.create_task(probe.run(), name=f"probe-{probe.name}"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    def down(self) -> dict[str, str]:
        """Everything that is not usable now, with why (empty when all is well)."""
        down: dict[str, str] = {}
        for source in self._sources:
            down.update(source())
        if self.started:
            for name, probe in self.probes.items():
                problem = probe.current_problem()
                if problem is not None:
                    down[name] = problem
        return down

    def dependencies(self) -> dict[str, dict[str, Any]]:
        """Each probed dependency (none before :meth:`start`)."""
        out: dict[str, dict[str, Any]] = {}
        if not self.started:
            return out
        for name, probe in self.probes.items():
            age = probe.age()
            problem = probe.current_problem()
            out[name] = {
                "ok": problem is None,
                "error": problem,
                "checkedSecondsAgo": None if age is None else round(age, 1),
            }
        return out


class _ProbeClient:
    """One HTTP client per probe, reused from check to check: creating one costs ~30 ms of
    CPU (its SSL context), which every 2 s was most of what an idle service spent. No
    keep-alive, so a restarted dependency never fails a check on a stale connection; a
    new client when the event loop is another one (a client belongs to its loop)."""

    def __init__(self) -> None:
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def get(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = httpx.AsyncClient(
                timeout=PROBE_TIMEOUT,
                trust_env=False,
                limits=httpx.Limits(max_keepalive_connections=0),
            )
            self._loop = loop
        return self._client


def node_probe(url: str) -> Check:
    """The IOTA node answers getNodeInfo with a milestone (IRI API, PROTOCOLS.md s.1)."""
    http = _ProbeClient()

    async def check() -> str | None:
        reply = await http.get().post(
            url, json={"command": "getNodeInfo"}, headers={"X-IOTA-API-Version": "1"}
        )
        if reply.status_code != 200:
            return f"getNodeInfo answered {reply.status_code}"
        index = int(reply.json().get("latestMilestoneIndex", 0))
        return None if index >= 1 else "the node has no milestone yet"

    return check


def http_probe(url: str) -> Check:
    """``GET url`` answers below 500 (a peer's ``/``: alive, whatever its own state)."""
    http = _ProbeClient()

    async def check() -> str | None:
        reply = await http.get().get(url)
        return None if reply.status_code < 500 else f"answered {reply.status_code}"

    return check


class HealthReport(BaseModel):
    """``GET /health``: 200 when every dependency and part is usable, else 503."""

    model_config = {"extra": "allow"}

    status: str = Field(examples=["ok"], description='"ok", or "unhealthy" (503)')
    name: str
    down: dict[str, str] = Field(
        description="each dependency or part that is not usable, and why (empty when ok)"
    )
    dependencies: dict[str, dict[str, Any]] = Field(
        description='each probed dependency: {"ok", "error", "checkedSecondsAgo"}'
    )


class ServiceIndex(BaseModel):
    """``GET /``: the service contract of every service."""

    model_config = {"extra": "allow"}
    name: str
    status: str


async def _extra(source: Extra | None) -> dict[str, Any]:
    if source is None:
        return {}
    value = source()
    if inspect.isawaitable(value):
        value = await value
    return dict(value)


@dataclass(frozen=True)
class ServiceInfo:
    """What one service's ``/`` and ``/health`` report (see :func:`service_router`)."""

    name: str | Callable[[], str]
    health: Health
    status: Callable[[], str] | None = None
    index: Extra | None = None
    details: Extra | None = None

    def the_name(self) -> str:
        return self.name() if callable(self.name) else self.name


async def _service_info(request: Request) -> ServiceInfo:
    info: ServiceInfo = provided(request, "service_info")
    return info


Info = Annotated[ServiceInfo, Depends(_service_info)]

# Module-level routes; service_router gives them one service's ServiceInfo.
index_router = APIRouter()
health_router = APIRouter()


@index_router.get("/", response_model=ServiceIndex)
async def service_index(info: Info) -> dict[str, Any]:
    """The service's name and status (``/health`` says what is down)."""
    down = "degraded" if info.health.down() else "ok"
    state = info.status() if info.status is not None else down
    return {"name": info.the_name(), "status": state, **await _extra(info.index)}


@health_router.get(
    "/health",
    response_model=HealthReport,
    responses={
        503: {
            "model": HealthReport,
            "description": "a dependency (the IOTA node, the MQTT broker, a peer) or "
            "a background part is not usable: named in `down`",
        }
    },
)
async def service_health(info: Info) -> JSONResponse:
    """200 when every dependency answers and every background part runs; 503 naming
    what does not. Answers at once: the dependencies are checked in the background."""
    down = info.health.down()
    body = {
        "status": "unhealthy" if down else "ok",
        "name": info.the_name(),
        "down": down,
        "dependencies": info.health.dependencies(),
        **await _extra(info.details),
    }
    return JSONResponse(body, status_code=503 if down else 200)


def service_router(
    name: str | Callable[[], str],
    health: Health,
    *,
    status: Callable[[], str] | None = None,
    index: Extra | None = None,
    details: Extra | None = None,
    include_index: bool = True,
    tags: list[str | Enum] | None = None,
) -> APIRouter:
    """``GET /`` -> ``{"name", "status", **index()}`` and ``GET /health`` -> 200 or 503
    (a :class:`HealthReport` plus ``details()``). ``status`` gives ``/``'s status (default
    "ok", or "degraded" while anything is down); ``include_index=False`` when ``/`` is the
    service's page (the dashboard)."""
    info = ServiceInfo(name, health, status, index, details)
    bound = APIRouter()
    for router in (index_router, health_router) if include_index else (health_router,):
        bound.include_router(
            router, tags=tags or ["service"], dependencies=[provide("service_info", info)]
        )
    return bound
