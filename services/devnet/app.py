"""The devnet app: IRI POST /, /faucet, GET / and /health; its lifespan runs the coordinator."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.types import Receive, Scope, Send

from services.devnet.api import LIMITS, IriApi, StreamedList
from services.devnet.channel_agent_host import ChannelAgentHost
from services.devnet.channel_agent_host import router as channel_agent_router
from services.devnet.coordinator import MilestoneCoordinator
from services.devnet.deps import DevnetRuntime, RuntimeDep, SettingsDep, faucet_guard
from services.devnet.economy import EconomyView
from services.devnet.economy import router as economy_router
from services.devnet.explorer import router as explorer_router
from services.devnet.faucet import Faucet, FaucetError, FaucetUnavailable
from services.devnet.node import DevnetNode
from services.devnet.publisher import ZmqPublisher
from services.devnet.settings import DevnetSettings
from services.devnet.store import TangleStore
from services.devnet.tangle import Tangle, TangleError, load_snapshot
from shared.auth import BearerRefused
from shared.health import Health, service_router
from shared.iota.bundle import TOTAL_SUPPLY
from shared.iota.signing import address_of
from shared.ratelimit import limit_writes
from shared.tasks import Supervisor
from shared.web import AsciiJSONResponse, BodySizeLimitMiddleware, install_error_handlers

__all__ = ["create_app"]

log = logging.getLogger("devnet")


async def _bearer_refused(_request: Request, exc: Exception) -> Response:
    """The faucet's 401 in IRI's ``{"error"}`` shape, like its other refusals."""
    assert isinstance(exc, BearerRefused)
    return JSONResponse({"error": exc.detail}, status_code=401, headers=exc.headers)


class FaucetRequest(BaseModel):
    """POST /faucet body.

    Any JSON is taken so the faucet itself answers IRI's 400 ``{"error"}`` naming what is
    wrong; the OpenAPI schema still says what is valid.
    """

    model_config = ConfigDict(json_schema_extra={"required": ["address", "value"]})

    address: Any = Field(
        None, json_schema_extra={"type": "string", "pattern": "^[A-Z9]{81}([A-Z9]{9})?$"}
    )
    value: Any = Field(
        None,
        json_schema_extra={"type": "integer", "minimum": 1},
        description="at most DEVNET_FAUCET_MAX",
    )


def _genesis(settings: DevnetSettings) -> dict[str, int]:
    if settings.snapshot is not None:
        return load_snapshot(settings.snapshot)
    # Without a snapshot the whole supply starts on the faucet's first address.
    return {address_of(settings.faucet_seed.get_secret_value(), 0, 2): TOTAL_SUPPLY}


# Bodies are refused (413) past this before they are read; between IRI's maxBodyLength
# and this the route still answers IRI's own 400 "Request too long".
MAX_BODY_BYTES = 2 * LIMITS["maxBodyLength"]


def write_local_snapshot(tangle: Tangle, data_dir: Path) -> None:
    """DATA_DIR/local-snapshot.txt (IRI's ADDRESS;balance, usable as DEVNET_SNAPSHOT) and
    DATA_DIR/spent-addresses.txt, each written whole and renamed into place."""
    index, balances, spent = tangle.snapshot_state()
    lines = [f"# local snapshot at milestone {index}"]
    lines += [f"{address};{balance}" for address, balance in sorted(balances.items())]
    for name, text in (
        ("local-snapshot.txt", "\n".join(lines) + "\n"),
        ("spent-addresses.txt", "".join(f"{a}\n" for a in spent)),
    ):
        partial = data_dir / f".{name}.partial"
        partial.write_text(text)
        os.replace(partial, data_dir / name)


# A read of more items than this takes one of DEVNET_READ_CONCURRENCY turns; smaller
# ones (every wallet's everyday getTrytes and findTransactions) never wait.
LARGE_READ = 1_000


class StreamedAnswer(Response):
    """An IRI answer whose list is sent piece by piece (``StreamedList``): the node holds
    one piece (~1.3 MB of trytes) at a time instead of the whole answer, its JSON and its
    bytes (27 MB each for 10,000 transactions, issue 20). ``done`` runs when the answer
    is sent or abandoned (it gives back the read turn); a client that does not take the
    answer within ``timeout`` seconds is cut off."""

    media_type = "application/json"

    def __init__(
        self,
        answer: dict[str, Any],
        started: float,
        timeout: float,
        done: Any = None,
    ) -> None:
        # Response's own __init__ renders a whole body: this one is sent by __call__.
        self.answer = answer
        self.started = started
        self.timeout = timeout
        self.done = done
        self.status_code = 200
        self.background = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            async with asyncio.timeout(self.timeout):
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"access-control-allow-origin", b"*"),
                        ],
                    }
                )
                first = True
                for key, value in self.answer.items():
                    prefix = ("{" if first else ",") + json.dumps(key) + ":"
                    first = False
                    if not isinstance(value, StreamedList):
                        await self._send(send, prefix + json.dumps(value))
                        continue
                    await self._send(send, prefix + "[")
                    for number, piece in enumerate(value.pieces()):
                        items = (
                            await anyio.to_thread.run_sync(value.fetch, piece)
                            if value.fetch is not None
                            else list(piece)
                        )
                        text = json.dumps(items)[1:-1]
                        await self._send(send, ("," if number and text else "") + text)
                        del items, text
                    await self._send(send, "]")
                duration = int((time.perf_counter() - self.started) * 1000)
                await self._send(send, ("{" if first else ",") + f'"duration":{duration}}}')
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        except TimeoutError:
            log.warning("event=read_cut_off reason=client_too_slow timeout=%s", self.timeout)
        finally:
            if self.done is not None:
                self.done()

    @staticmethod
    async def _send(send: Send, text: str) -> None:
        await send({"type": "http.response.body", "body": text.encode(), "more_body": True})


#: ``POST /``, the IRI API.
iri_router = APIRouter()


@iri_router.post(
    "/",
    include_in_schema=True,
    summary="IRI 1.8 API command",
    responses={
        400: {"description": 'IRI\'s {"error"}: bad request, unknown command, a limit'},
        500: {"description": 'IRI\'s {"exception"}: invalid parameters or transactions'},
        503: {"description": "attachToTangle or a large read found no free turn in time"},
    },
)
async def iri(request: Request, runtime: RuntimeDep, settings: SettingsDep) -> Response:
    """IRI API: JSON body {"command": ..., ...}; header X-IOTA-API-Version required."""
    started = time.perf_counter()
    raw = await request.body()

    def reply(status: int, body: dict[str, Any]) -> JSONResponse:
        body["duration"] = int((time.perf_counter() - started) * 1000)
        # ASCII-escaped: an error may echo input ("Command [x] is unknown") and JSON
        # input can hold lone surrogates, which UTF-8 rendering cannot encode.
        return AsciiJSONResponse(body, status_code=status)

    if len(raw) > LIMITS["maxBodyLength"]:
        return reply(400, {"error": "Request too long"})
    if "x-iota-api-version" not in request.headers:
        return reply(400, {"error": "Invalid API Version"})
    try:
        body = json.loads(raw)
    except ValueError as error:
        return reply(400, {"error": f"Invalid JSON syntax: {error}"})
    except RecursionError:
        return reply(400, {"error": "Invalid JSON syntax: nested too deeply"})
    api = runtime.api
    # The client's identity: its IP address as the server saw it (a forwarded-for
    # header is not trusted). interruptAttachingToTangle stops only its attaches.
    client = request.client.host if request.client is not None else ""
    turns = runtime.read_turns
    holding = False
    try:
        if _large_read(body):
            holding = await _take_turn(turns, settings)
            if not holding:
                return _busy(reply, body, settings)
        status, answer = await anyio.to_thread.run_sync(api.dispatch, body, client)
        streamed = [v for v in answer.values() if isinstance(v, StreamedList)]
        if status == 200 and streamed:
            if not holding and len(streamed[0].items) > LARGE_READ:
                holding = await _take_turn(turns, settings)
                if not holding:
                    return _busy(reply, body, settings)
            release = turns.release if holding else None
            holding = False  # the answer gives the turn back when it is sent
            return StreamedAnswer(answer, started, settings.read_timeout, release)
    finally:
        if holding:
            turns.release()
    if status >= 400:
        log.info(
            "event=api_refused command=%s status=%d reason=%r",
            # Escaped: the command may be any JSON value, even a lone surrogate.
            str(body.get("command")).encode("ascii", "backslashreplace").decode()
            if isinstance(body, dict)
            else None,
            status,
            next(iter(answer.values())),
        )
    return reply(status, answer)


def _large_read(body: Any) -> bool:
    if not isinstance(body, dict) or body.get("command") != "getTrytes":
        return False
    hashes = body.get("hashes")
    return isinstance(hashes, list) and len(hashes) > LARGE_READ


async def _take_turn(turns: asyncio.Semaphore, settings: DevnetSettings) -> bool:
    try:
        await asyncio.wait_for(turns.acquire(), settings.read_wait)
    except TimeoutError:
        return False
    return True


def _busy(reply: Any, body: dict[str, Any], settings: DevnetSettings) -> JSONResponse:
    command = str(body.get("command"))
    log.info("event=api_refused command=%s status=503 reason=read_busy", command)
    return reply(
        503,
        {
            "error": f"{command} is busy: {settings.read_concurrency} large reads are "
            f"being answered (DEVNET_READ_CONCURRENCY) and no turn freed up within "
            f"{settings.read_wait:g}s; try again"
        },
    )


#: ``POST /faucet`` (bearer: DEVNET_FAUCET_TOKEN) and ``GET /faucet``.
faucet_router = APIRouter()


@faucet_router.post(
    "/faucet",
    dependencies=[Depends(faucet_guard)],
    responses={
        400: {"description": "the faucet refuses the address or value"},
        401: {"description": "no or a wrong DEVNET_FAUCET_TOKEN (or none is set)"},
        503: {"description": "the faucet is busy or its last payment is unconfirmed"},
    },
)
async def faucet_route(
    payload: FaucetRequest, runtime: RuntimeDep, settings: SettingsDep
) -> JSONResponse:
    """Send `value` devnet tokens to `address` (capped by DEVNET_FAUCET_MAX)."""
    faucet = runtime.faucet
    try:
        target = faucet.check(payload.address, payload.value)
    except FaucetError as error:
        return JSONResponse({"error": str(error)}, status_code=400)
    assert isinstance(payload.value, int)
    if runtime.faucet_waiting >= settings.faucet_max_waiting:
        return JSONResponse(
            {
                "error": f"the faucet is busy ({settings.faucet_max_waiting} requests "
                "waiting, DEVNET_FAUCET_MAX_WAITING); try again shortly"
            },
            status_code=503,
        )
    runtime.faucet_waiting += 1
    try:
        # Waits for the previous payment's confirmation here, on the event loop:
        # no worker thread (nor the faucet's lock) is held while waiting.
        deadline = time.monotonic() + faucet.wait
        while True:
            payment = await anyio.to_thread.run_sync(faucet.try_pay, target, payload.value)
            if payment is not None:
                break
            if time.monotonic() > deadline:
                raise FaucetUnavailable("the faucet's last payment is not confirmed yet")
            await asyncio.sleep(0.05)
    except FaucetError as error:
        return JSONResponse({"error": str(error)}, status_code=400)
    except (FaucetUnavailable, TangleError) as error:
        return JSONResponse({"error": str(error)}, status_code=503)
    finally:
        runtime.faucet_waiting -= 1
    log.info("event=faucet_paid address=%s value=%d", payment.address, payment.value)
    return JSONResponse(
        {
            "address": payment.address,
            "value": payment.value,
            "bundle": payment.bundle,
            "tail": payment.tail,
            "transactions": payment.transactions,
        }
    )


@faucet_router.get("/faucet")
async def faucet_info(runtime: RuntimeDep, settings: SettingsDep) -> dict[str, Any]:
    """The faucet's current address, confirmed balance and cap."""
    faucet = runtime.faucet
    index = await anyio.to_thread.run_sync(faucet.key_index)
    return {
        "address": faucet.address(index),
        "balance": faucet.node.tangle.confirmed_balance(faucet.address(index)),
        "max": faucet.max_value,
        # False only when explicitly open (DEVNET_FAUCET_OPEN, no token): shared/auth.py.
        "tokenRequired": bool(settings.faucet_token) or not settings.faucet_open,
    }


def create_app(settings: DevnetSettings) -> FastAPI:
    """Build the devnet app; nothing starts until the lifespan runs."""
    health = Health()  # the devnet depends on nothing else: its own parts only
    # The channel agent (docs/channels.md); its secret defaults to one derived from this seed.
    channels = ChannelAgentHost(settings.data_dir, settings.coordinator_seed.get_secret_value())

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = TangleStore(settings.effective_database_url())
        _app.state.tangle_store = store
        tangle = Tangle(store, settings.mwm)
        await anyio.to_thread.run_sync(tangle.open, lambda: _genesis(settings))
        publisher = ZmqPublisher(settings.host, settings.zmq_port)
        node = DevnetNode(
            tangle,
            publisher,
            settings.mwm,
            attach_timeout=settings.attach_timeout,
            attach_concurrency=settings.attach_concurrency,
        )
        coordinator = MilestoneCoordinator(
            node, settings.coordinator_seed.get_secret_value(), max_merges=settings.max_merges
        )
        faucet = Faucet(
            node,
            settings.faucet_seed.get_secret_value(),
            settings.faucet_max,
            wait=max(30.0, 10 * settings.milestone_interval),
        )
        api = IriApi(
            node,
            coordinator.address,
            max_attach_mwm=settings.attach_max_mwm,
            max_attach_transactions=settings.attach_max_transactions,
            streaming=True,
        )
        supervisor = Supervisor("devnet")
        health.watch(supervisor.down)
        _app.state.runtime = DevnetRuntime(
            node, api, faucet, asyncio.Semaphore(settings.read_concurrency)
        )
        supervisor.start("coordinator", lambda: coordinator.run(settings.milestone_interval))
        if settings.prune_depth:

            async def prune_forever() -> None:
                while True:
                    await asyncio.sleep(settings.prune_interval)
                    before = tangle.snapshot_index
                    index = await anyio.to_thread.run_sync(tangle.prune, settings.prune_depth)
                    if index != before:
                        await anyio.to_thread.run_sync(
                            write_local_snapshot, tangle, settings.data_dir
                        )

            supervisor.start("pruner", prune_forever)
        await channels.start(node)
        log.info(
            "event=devnet_started port=%d zmq_port=%d mwm=%d milestone_interval=%s "
            "coordinator=%s data=%s",
            settings.port,
            settings.zmq_port,
            settings.mwm,
            settings.milestone_interval,
            coordinator.address,
            settings.data_dir,
        )
        try:
            yield
        finally:
            await channels.stop()
            await supervisor.stop()
            publisher.close()
            store.close()
            log.info("event=devnet_stopped")

    app = FastAPI(
        title="devnet",
        summary="Private IOTA devnet: IRI 1.8-compatible node, coordinator, ZMQ feed, faucet",
        lifespan=lifespan,
    )
    # FastAPI's {"detail": [...]} 422, ASCII-escaped: its default rendering raised (a bare
    # 500) when the JSON held a lone surrogate such as "\ud800".
    install_error_handlers(app)
    app.add_exception_handler(BearerRefused, _bearer_refused)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=MAX_BODY_BYTES)
    # The faucet and the channel agent's commands, per client address. The IRI API (POST /)
    # is exempt: every service's wallet and MAM reader call it all the time (docs/devnet.md).
    limit_writes(app, settings, exempt=("/",))
    # What the module-level routers read (services/devnet/deps.py); the lifespan adds
    # app.state.runtime.
    app.state.settings = settings
    app.state.channel_agent_host = channels
    app.include_router(channel_agent_router)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["*"],
        allow_headers=["*"],
    )

    @app.middleware("http")
    async def always_cors(request: Request, call_next: Any) -> Any:
        # IRI sends the header on every reply, not only when the request has an Origin.
        response = await call_next(request)
        response.headers.setdefault("Access-Control-Allow-Origin", "*")
        return response

    def running() -> DevnetRuntime | None:
        runtime: DevnetRuntime | None = getattr(app.state, "runtime", None)
        return runtime

    def index() -> dict[str, Any]:
        runtime = running()
        return {
            "latestMilestoneIndex": runtime.node.tangle.latest_milestone_index if runtime else 0
        }

    def details() -> dict[str, Any]:
        runtime = running()
        return {
            "latestMilestoneIndex": runtime.node.tangle.latest_milestone_index if runtime else 0,
            "lastSnapshottedMilestoneIndex": runtime.node.tangle.snapshot_index if runtime else 0,
        }

    def synced() -> bool:
        runtime = running()
        return runtime is not None and runtime.node.tangle.latest_milestone_index >= 1

    # GET / and GET /health (shared/health.py): 200 once the node has a milestone and
    # every background task runs; 503 naming what is down (coordinator, pruner).
    health.watch(lambda: {} if synced() else {"milestone": "no milestone yet"})
    app.include_router(
        service_router(
            "devnet",
            health,
            status=lambda: "synced" if synced() else "starting",
            index=index,
            details=details,
        )
    )

    app.include_router(iri_router)
    app.include_router(faucet_router)
    app.include_router(explorer_router)
    app.state.economy = EconomyView(
        lambda: None if (runtime := running()) is None else runtime.node,
        lambda: None if (runtime := running()) is None else runtime.faucet,
        lambda: channels.agent,
    )
    app.include_router(economy_router)

    return app
