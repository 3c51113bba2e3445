"""The ASGI app of a machine: FastAPI routes + Socket.IO at /sockets + the order processor.

Robots and energy providers are built here from their settings; the services only choose the
role, so the two kinds of machine behave the same way wherever they overlap.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import socketio
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.books import BooksSource, books_router
from shared.db import run_db
from shared.health import Health, node_probe, service_router
from shared.machine.broadcaster import StatusBroadcaster
from shared.machine.channel_payment import MachineChannels, mount_channels, start_channels
from shared.machine.deps import require_machine_token
from shared.machine.processor import MachineConfig, OrderProcessor, ProviderLink, WalletLike
from shared.machine.requests import EnergyOrderRequest, OrderRejected, parse_order
from shared.machine.settings import MachineSettings
from shared.machine.status import MachineStatus
from shared.machine.store import OrderStore
from shared.machine.watcher import FeedFactory, PaymentWatcher
from shared.ratelimit import TokenBuckets, limit_writes, retry_after
from shared.tasks import Supervisor
from shared.web import BodySizeLimitMiddleware, error_responses

__all__ = ["MAX_BODY_BYTES", "LimitedSocketIOApp", "MachineRuntime", "create_machine_app"]

log = logging.getLogger("machine.app")

WalletFactory = Callable[[MachineSettings, str], WalletLike]
NodeCheck = Callable[[], Awaitable[str | None]]

# Machines take small JSON bodies only (an energy order is ~200 bytes); the same limit holds
# for Socket.IO: a long-polling POST (BodySizeLimitMiddleware around the whole ASGI app)
# and a websocket message (uvicorn's ws_max_size, set by services' __main__).
MAX_BODY_BYTES = 64 * 1024


def default_node_check(settings: MachineSettings) -> NodeCheck:
    """getNodeInfo on IOTA_NODE_URL, run by the health probe in the background."""
    return node_probe(settings.iota_node_url)


def default_wallet(settings: MachineSettings, database_url: str, **options: Any) -> WalletLike:
    """The machine's wallet (SEED, SECURITY, DEPTH, MIN_WEIGHT_MAGNITUDE); ``options`` go
    to Wallet (a fleet's shared node ``adapter``)."""
    from shared.iota.wallet import Wallet

    return Wallet(
        settings.seed.get_secret_value(),
        settings.iota_node_url,
        database_url,
        security=settings.security,
        depth=settings.depth,
        min_weight_magnitude=settings.min_weight_magnitude,
        request_timeout=settings.iota_node_timeout,
        **options,
    )


def default_feed(settings: MachineSettings) -> FeedFactory:
    from shared.iota.zmq_feed import ZmqFeed

    return lambda: ZmqFeed(settings.iota_zmq_url, topics=("tx", "sn"))


def _client_address(environ: dict[str, Any]) -> str | None:
    """The peer's IP as the ASGI server saw it (X-Forwarded-For is not trusted)."""
    scope = environ.get("asgi.scope") or {}
    client = scope.get("client")
    if client:
        return str(client[0])
    remote = environ.get("REMOTE_ADDR")
    return str(remote) if remote else None


class LimitedSocketIOApp(socketio.ASGIApp):
    """``socketio.ASGIApp`` with the project's body limit on every HTTP request, the
    Socket.IO path included.

    engine.io's own ``max_http_buffer_size`` is not enough: an announced oversize
    long-polling POST is refused only after the session is disconnected, which waits for
    the client's next poll (up to the ping timeout) before anything is answered, and a
    body that streams without a length is read whole. Here it is a 413 before the body is
    read. Websocket messages are bounded by uvicorn's ``ws_max_size`` (each machine's
    ``__main__`` passes ``MAX_BODY_BYTES``), which closes the socket (1009) on a frame's
    announced length."""

    def __init__(self, sio: socketio.AsyncServer, app: ASGIApp, max_bytes: int) -> None:
        super().__init__(sio, other_asgi_app=app, socketio_path="sockets")
        self._limited = BodySizeLimitMiddleware(self._close_unread, max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._limited(scope, receive, send)

    async def _close_unread(self, scope: Scope, receive: Receive, send: Send) -> None:
        """engine.io answers a POST it refuses (no or unknown session) without reading the
        body; then the answer closes the connection, so the server stops reading too."""
        if scope["type"] != "http" or scope["method"] != "POST":
            await super().__call__(scope, receive, send)
            return
        finished = False

        async def tracked_receive() -> Message:
            nonlocal finished
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                finished = True
            return message

        async def closing_send(message: Message) -> None:
            if message["type"] == "http.response.start" and not finished:
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() != b"connection"
                ]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        await super().__call__(scope, tracked_receive, closing_send)


def _processor(request: Request) -> OrderProcessor:
    runtime: MachineRuntime = request.app.state.runtime
    if runtime.processor is None:
        raise HTTPException(503, "machine is starting")
    return runtime.processor


Processor = Annotated["OrderProcessor", Depends(_processor)]
# Statuses routes answer besides 200 and 422, declared in their OpenAPI ``responses``.
_STARTING: dict[int | str, dict[str, Any]] = {
    503: {"description": "the machine is starting (no order processor yet)"}
}


@dataclass
class MachineRuntime:
    """What the lifespan builds and the routes use."""

    settings: MachineSettings
    sio: socketio.AsyncServer
    broadcaster: StatusBroadcaster
    watcher: PaymentWatcher
    processor: OrderProcessor | None = None
    store: OrderStore | None = None
    supervisor: Supervisor | None = None
    #: Whether payment channels are mounted (``GET /channel``, the ``/stats`` flag).
    has_channels: bool = False


async def _runtime(request: Request) -> MachineRuntime:
    runtime: MachineRuntime = request.app.state.runtime
    return runtime


Runtime = Annotated[MachineRuntime, Depends(_runtime)]

#: ``GET /orders``, ``/stats``, ``/orders/{id}``: every machine's.
orders_router = APIRouter()


@orders_router.get("/orders", responses=_STARTING)
async def list_orders(processor: Processor, limit: int = 50) -> list[dict[str, Any]]:
    """The most recent orders, newest first."""
    recent = await run_db(processor.store.recent, max(1, min(limit, 500)))
    return [o.public() for o in recent]


@orders_router.get("/stats", responses=_STARTING)
async def stats(processor: Processor, runtime: Runtime) -> dict[str, Any]:
    """What the machine has done, from its database: ``finished`` counts done orders
    (``products`` made by a robot, ``energy`` orders delivered by a provider), and
    ``channel`` says whether ``GET /channel`` exists here (payment channels mounted)."""
    done = await run_db(processor.store.count_done)
    return {
        "name": runtime.settings.name,
        "finished": {"products": done.get("product", 0), "energy": done.get("energy", 0)},
        "channel": runtime.has_channels,
    }


@orders_router.get(
    "/orders/{order_id}", responses={**_STARTING, 404: {"description": "no such order"}}
)
async def get_order(order_id: str, processor: Processor) -> dict[str, Any]:
    """One order."""
    order = await run_db(processor.store.get, order_id)
    if order is None:
        raise HTTPException(404, f"no order {order_id}")
    return order.public()


#: ``POST /energy-orders`` (MACHINE_TOKEN) and ``GET /energy-orders/{id}``: a provider's.
energy_orders_router = APIRouter()


@energy_orders_router.post(
    "/energy-orders",
    dependencies=[require_machine_token],
    responses={
        **_STARTING,
        401: {"description": "no or a wrong MACHINE_TOKEN (or none is set, MACHINE_OPEN off)"},
        409: {"description": "the order is refused (reason in detail)"},
        **error_responses({400: "the body is not JSON", 422: "not a valid order"}),
    },
)
async def create_energy_order(body: EnergyOrderRequest, processor: Processor) -> dict[str, Any]:
    """A robot orders energy; pay `value` to `address`. Idempotent on order_id."""
    try:
        order = await processor.submit_energy_order(body)
    except OrderRejected as rejected:
        raise HTTPException(409, rejected.reason) from None
    return {
        "order_id": order.id,
        "address": order.address,
        "value": order.price,
        "state": order.state.value,
    }


@energy_orders_router.get(
    "/energy-orders/{order_id}",
    responses={**_STARTING, 404: {"description": "no such energy order"}},
)
async def get_energy_order(order_id: str, processor: Processor) -> dict[str, Any]:
    """One energy order."""
    order = await run_db(processor.store.get, order_id)
    if order is None:
        raise HTTPException(404, f"no energy order {order_id}")
    return order.public()


def create_machine_app(
    settings: MachineSettings,
    *,
    role: str,
    config: MachineConfig,
    provider: ProviderLink | None = None,
    wallet_factory: WalletFactory = default_wallet,
    feed_factory: FeedFactory | None = None,
    node_check: NodeCheck | None = None,
    description: str = "",
) -> socketio.ASGIApp:
    """Build the machine. ``role`` is "robot" (takes `order`) or "provider" (energy orders)."""
    cors = settings.cors_origin_list()
    config = dataclasses.replace(
        config,
        max_orders_per_connection=settings.max_orders_per_connection,
        max_orders_per_address=settings.max_orders_per_address,
        address_hold=settings.payment_address_hold_seconds,
    )
    check_node = node_check or default_node_check(settings)
    # always_connect: the CONNECT ack goes out before `welcome`, the order clients expect;
    # a Socket.IO message is an order or less, so long-polling bodies stay small too.
    sio = socketio.AsyncServer(
        async_mode="asgi",
        cors_allowed_origins=cors,
        logger=False,
        always_connect=True,
        max_http_buffer_size=MAX_BODY_BYTES,
    )
    broadcaster = StatusBroadcaster(sio, settings.name)
    runtime = MachineRuntime(settings, sio, broadcaster, PaymentWatcher())
    # /health: the devnet probed in the background (shared/health.py), plus our own parts.
    health = Health()
    health.probe("devnet", check_node)

    def parts_down() -> dict[str, str]:
        down: dict[str, str] = dict(runtime.supervisor.down()) if runtime.supervisor else {}
        if runtime.processor is None:
            down["machine"] = "starting"
        elif not runtime.watcher.connected:
            down.setdefault("zmq", "not connected to the node's ZMQ feed")
        return down

    health.watch(parts_down)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        database_url = settings.resolved_database_url()
        store = await run_db(OrderStore.from_url, database_url)
        wallet = await asyncio.to_thread(wallet_factory, settings, database_url)
        # Load the hashing kernels now, so the first order does not pay for it.
        warm_up = getattr(wallet, "warm_up", None)
        if warm_up is not None:
            await asyncio.to_thread(warm_up)
        processor = OrderProcessor(config, store, wallet, runtime.watcher, broadcaster, provider)
        channels = await start_channels(settings, role, processor, wallet, database_url)
        if channels is not None:
            channel_holder["channels"] = channels
        runtime.store, runtime.processor = store, processor
        refresh = getattr(provider, "refresh_name", None)
        if refresh is not None:
            await refresh()
        feed = feed_factory or default_feed(settings)
        # Supervised: a crash is logged and the part restarts with backoff, while
        # /health answers 503 naming it.
        supervisor = Supervisor(settings.name.replace(" ", "_"))
        supervisor.start("zmq-watcher", lambda: runtime.watcher.run(feed))
        supervisor.start("order-processor", processor.run)
        supervisor.start("sweeper", processor.run_sweeper)
        runtime.supervisor = supervisor
        await health.start()
        log.info(
            "event=started name=%s role=%s port=%d unfinished_orders=%d",
            settings.name.replace(" ", "_"),
            role,
            settings.port,
            await run_db(store.count_unfinished),
        )
        try:
            yield
        finally:
            await health.stop()
            if channels is not None:
                await channels.stop()
            await supervisor.stop()
            aclose = getattr(provider, "aclose", None)
            if aclose is not None:
                await aclose()
            close = getattr(wallet, "close", None)
            if close is not None:
                close()
            store.close()
            log.info("event=stopped name=%s", settings.name.replace(" ", "_"))

    app = FastAPI(
        title=f"{settings.name} ({role})",
        description=description,
        lifespan=lifespan,
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=cors if isinstance(cors, list) else ["*"],
        allow_methods=["GET"],
        allow_headers=["*"],
    )
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=MAX_BODY_BYTES)
    # What the module-level routers read (shared/machine/deps.py, Runtime and Processor).
    app.state.runtime = runtime
    app.state.machine_settings = settings
    channel_holder: dict[str, MachineChannels] = {}
    has_channels = (
        role == "provider"
        or settings.provider_payment == "channel"
        or settings.rent_tool_url is not None
    )
    runtime.has_channels = has_channels
    if has_channels:
        mount_channels(app, channel_holder)

    def details() -> dict[str, Any]:
        processor = runtime.processor
        return {
            "role": role,
            "machine_status": broadcaster.status.value,
            "node": health.probes["devnet"].current_problem() or "ok",
            "zmq_connected": runtime.watcher.connected,
            "current_order": processor.current_order_id if processor else None,
            "balance": broadcaster.balance,
        }

    # GET / (seed 000: the machine's name and status) and GET /health.
    app.include_router(
        service_router(
            settings.name, health, status=lambda: broadcaster.status.value, details=details
        )
    )

    def credited() -> dict[str, int]:
        """Income of the order addresses: what each order's address counted, price and credit
        alike (docs/robot.md, "Paying more or less than asked"); an order paid over a channel
        has nothing there, its money arrives with the channel's settlement."""
        processor = runtime.processor
        if processor is None:
            return {}
        return {"orders_received": processor.store.received_total()}

    app.include_router(
        books_router(
            BooksSource(
                service=lambda: settings.name,
                node_url=settings.iota_node_url,
                wallet=lambda: runtime.processor.wallet if runtime.processor else None,
                credited=credited,
                invoiced=lambda purpose: purpose in ("order", "energy"),
            )
        )
    )

    app.include_router(orders_router)

    async def on_order(sid: str, data: Any = None) -> dict[str, Any]:
        environ = sio.get_environ(sid) or {}
        wait = buckets.take(_client_address(environ) or "")
        if wait:
            # Dropped before any work: the client hears why and when to try again.
            seconds = retry_after(wait)
            reason = f"too many events from this address; retry in {seconds} s"
            await sio.emit("error", {"reason": reason, "retry_after": seconds}, to=sid)
            return {"error": reason, "retry_after": seconds}
        processor = runtime.processor
        try:
            if role != "robot":
                raise OrderRejected(
                    f"{settings.name} sells energy to robots (POST /energy-orders); "
                    "order products from a robot"
                )
            request = parse_order(data)
            if processor is None or broadcaster.status == MachineStatus.BOOTING:
                raise OrderRejected(f"{settings.name} is still booting; try again in a moment")
            reply = await processor.submit_order(
                request, connection=sid, client_address=_client_address(environ)
            )
        except OrderRejected as rejected:
            await sio.emit("error", {"reason": rejected.reason}, to=sid)
            return {"error": rejected.reason}
        except Exception as error:  # the node or the database failed; the socket lives on
            log.warning("event=order_failed error=%s", type(error).__name__)
            reason = f"{settings.name} could not take the order right now ({type(error).__name__})"
            await sio.emit("error", {"reason": reason}, to=sid)
            return {"error": reason}
        if reply["position"]:
            await sio.emit("queued", reply, to=sid)
        return reply

    sio.on("order", on_order)

    if role == "provider":
        app.include_router(energy_orders_router)

    # Writes over HTTP and Socket.IO events share one budget per client address.
    buckets: TokenBuckets = limit_writes(app, settings)
    return LimitedSocketIOApp(sio, app, MAX_BODY_BYTES)
