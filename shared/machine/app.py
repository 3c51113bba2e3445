"""The ASGI app of a machine: FastAPI routes + Socket.IO at /sockets + the order processor.

Robots and energy providers are built here from their settings; the services only choose the
role, so the two kinds of machine behave the same way wherever they overlap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import socketio
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.machine.broadcaster import StatusBroadcaster
from shared.machine.channel_payment import MachineChannels, mount_channels, start_channels
from shared.machine.processor import MachineConfig, OrderProcessor, ProviderLink, WalletLike
from shared.machine.requests import EnergyOrderRequest, OrderRejected, parse_order
from shared.machine.settings import MachineSettings
from shared.machine.status import MachineStatus
from shared.machine.store import OrderStore
from shared.machine.watcher import FeedFactory, PaymentWatcher

__all__ = ["MachineRuntime", "create_machine_app"]

log = logging.getLogger("machine.app")

WalletFactory = Callable[[MachineSettings, str], WalletLike]


def default_wallet(settings: MachineSettings, database_url: str) -> WalletLike:
    from shared.iota.wallet import Wallet

    return Wallet(
        settings.seed.get_secret_value(),
        settings.iota_node_url,
        database_url,
        security=settings.security,
        depth=settings.depth,
        min_weight_magnitude=settings.min_weight_magnitude,
    )


def default_feed(settings: MachineSettings) -> FeedFactory:
    from shared.iota.zmq_feed import ZmqFeed

    return lambda: ZmqFeed(settings.iota_zmq_url, topics=("tx", "sn"))


def _processor(request: Request) -> OrderProcessor:
    runtime: MachineRuntime = request.app.state.runtime
    if runtime.processor is None:
        raise HTTPException(503, "machine is starting")
    return runtime.processor


Processor = Annotated["OrderProcessor", Depends(_processor)]

# Reads "Authorization: Bearer ..." and documents the scheme in OpenAPI; the check is ours
# (check_token), so a provider without MACHINE_TOKEN stays open. Module level: the route's
# annotations are resolved in this module's namespace.
_bearer = HTTPBearer(auto_error=False, description="MACHINE_TOKEN, if the provider has one")


@dataclass
class MachineRuntime:
    """What the lifespan builds and the routes use."""

    settings: MachineSettings
    sio: socketio.AsyncServer
    broadcaster: StatusBroadcaster
    watcher: PaymentWatcher
    processor: OrderProcessor | None = None
    store: OrderStore | None = None


def create_machine_app(
    settings: MachineSettings,
    *,
    role: str,
    config: MachineConfig,
    provider: ProviderLink | None = None,
    wallet_factory: WalletFactory = default_wallet,
    feed_factory: FeedFactory | None = None,
    description: str = "",
) -> socketio.ASGIApp:
    """Build the machine. ``role`` is "robot" (takes `order`) or "provider" (energy orders)."""
    cors = settings.cors_origin_list()
    # always_connect: the CONNECT ack goes out before `welcome`, the order clients expect
    sio = socketio.AsyncServer(
        async_mode="asgi", cors_allowed_origins=cors, logger=False, always_connect=True
    )
    broadcaster = StatusBroadcaster(sio, settings.name)
    runtime = MachineRuntime(settings, sio, broadcaster, PaymentWatcher())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        database_url = settings.resolved_database_url()
        store = OrderStore.from_url(database_url)
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
        tasks = [
            asyncio.create_task(runtime.watcher.run(feed), name="zmq-watcher"),
            asyncio.create_task(processor.run(), name="order-processor"),
        ]
        log.info(
            "event=started name=%s role=%s port=%d unfinished_orders=%d",
            settings.name.replace(" ", "_"),
            role,
            settings.port,
            store.count_unfinished(),
        )
        try:
            yield
        finally:
            if channels is not None:
                await channels.stop()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
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
    app.state.runtime = runtime
    channel_holder: dict[str, MachineChannels] = {}
    if role == "provider" or settings.provider_payment == "channel":
        mount_channels(app, channel_holder, settings)

    @app.get("/")
    async def index() -> dict[str, Any]:
        """The machine's name and current status (seed 000)."""
        return {"name": settings.name, "status": broadcaster.status.value}

    @app.get("/health")
    async def health() -> dict[str, Any]:
        """Liveness plus what an operator wants at a glance."""
        processor = runtime.processor
        return {
            "status": "ok" if processor is not None else "starting",
            "name": settings.name,
            "role": role,
            "machine_status": broadcaster.status.value,
            "zmq_connected": runtime.watcher.connected,
            "current_order": processor.current_order_id if processor else None,
            "balance": broadcaster.balance,
        }

    @app.get("/orders")
    async def list_orders(processor: Processor, limit: int = 50) -> list[dict[str, Any]]:
        """The most recent orders, newest first."""
        return [o.public() for o in processor.store.recent(max(1, min(limit, 500)))]

    @app.get("/orders/{order_id}")
    async def get_order(order_id: str, processor: Processor) -> dict[str, Any]:
        """One order."""
        order = processor.store.get(order_id)
        if order is None:
            raise HTTPException(404, f"no order {order_id}")
        return order.public()

    async def on_order(sid: str, data: Any = None) -> dict[str, Any]:
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
            reply = await processor.submit_order(request)
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
        token = settings.machine_token.get_secret_value() if settings.machine_token else None

        def check_token(
            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        ) -> None:
            if token is None:
                return
            given = credentials.credentials if credentials is not None else ""
            if not secrets.compare_digest(given.encode(), token.encode()):
                raise HTTPException(
                    401,
                    "a valid 'Authorization: Bearer <MACHINE_TOKEN>' needed",
                    headers={"WWW-Authenticate": "Bearer"},
                )

        @app.post("/energy-orders", dependencies=[Depends(check_token)])
        async def create_energy_order(
            body: EnergyOrderRequest, processor: Processor
        ) -> dict[str, Any]:
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

        @app.get("/energy-orders/{order_id}")
        async def get_energy_order(order_id: str, processor: Processor) -> dict[str, Any]:
            """One energy order."""
            order = processor.store.get(order_id)
            if order is None:
                raise HTTPException(404, f"no energy order {order_id}")
            return order.public()

    return socketio.ASGIApp(sio, other_asgi_app=app, socketio_path="sockets")
