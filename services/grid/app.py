"""The grid's FastAPI app: registration and storage APIs (the seed's), the books, health.

The lifespan owns the database engine, the node client, the wallet and the background
loops of :class:`services.grid.settlement.GridSettlement` under a :class:`shared.tasks.Supervisor`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from services.grid.audit import AuditTrail
from services.grid.bookkeeping import GridBooks, return_channel_name
from services.grid.deps import AuditDep, BooksDep, ChannelBookDep, RegistrationsDep
from services.grid.settings import MAX_ITEM_BYTES, GridSettings
from services.grid.settlement import GridSettlement
from services.grid.storage import BatchedWriter, RawPathMiddleware, StorageStore, storage_router
from shared.books import BooksSource, books_router
from shared.db import make_engine, make_sessionmaker, run_db
from shared.energy.channels import ChannelBook
from shared.energy.follower import ChannelFollower, HelloMissing
from shared.energy.messages import Goodbye, Hello
from shared.energy.models import STORE as ENERGY_STORE
from shared.energy.models import EnergyBase, Registration
from shared.energy.registration import (
    EnergyApiError,
    RegistrationRequest,
    RegistrationStore,
    install_energy_error_handlers,
    registration_router,
)
from shared.energy.roles import buys
from shared.health import Health, http_probe, node_probe, service_router
from shared.iota.wallet import Wallet
from shared.mam.errors import MamError, NodeApiError
from shared.mam.tangle import NodeApi
from shared.migrations import Store, upgrade
from shared.ratelimit import limit_writes
from shared.tasks import Supervisor
from shared.web import BodySizeLimitMiddleware

__all__ = ["STORE", "GridRegistrations", "create_app"]

log = logging.getLogger("services.grid")

# The grid's own tables (grid_*, on EnergyBase): services/grid/migrations.
STORE = Store(
    "grid", Path(__file__).parent / "migrations", EnergyBase.metadata, prefixes=("grid_",)
)


class GridRegistrations:
    """The grid's rules for registering: sellers and buyers only (the role a registration
    declares, or the one its seed ``itemType`` names: shared/energy/roles.py), ``hello``
    first, a return channel (with its own ``hello``) for every buyer."""

    def __init__(
        self,
        follower: ChannelFollower,
        book: ChannelBook,
        storage: StorageStore,
        registered: set[str],
    ) -> None:
        self.follower = follower
        self.book = book
        self.storage = storage
        self.registered = registered
        self._lock = asyncio.Lock()

    async def on_register(
        self, registration_id: str, request: RegistrationRequest, previous: Registration | None
    ) -> dict[str, str]:
        role = request.declared_role()
        if role is None:
            raise EnergyApiError(
                400,
                "The parameter 'itemType' has an invalid value: 'producer' or 'consumer' "
                "(or declare a 'role': 'seller', 'buyer' or 'both').",
            )
        if request.sideKey and not request.root:
            raise EnergyApiError(
                400, "The parameter 'root' has an invalid value: a sideKey needs its root."
            )
        async with self._lock:
            if request.root:
                try:
                    await asyncio.to_thread(
                        self.follower.start, registration_id, request.root, request.sideKey
                    )
                except HelloMissing as error:
                    raise EnergyApiError(422 if error.visible else 409, str(error)) from None
                except NodeApiError as error:
                    raise EnergyApiError(
                        503, f"The IOTA node could not be asked for the channel: {error}"
                    ) from None
            elif previous is not None and previous.root:
                await run_db(self.follower.stop, registration_id)
            self.registered.add(registration_id)
            if not buys(role):
                return {}
            name = return_channel_name(registration_id)
            channel = await asyncio.to_thread(self.book.ensure, name)
            if channel.published == 0:
                try:
                    await asyncio.to_thread(self.book.publish, name, Hello())
                except MamError as error:
                    # the hello is queued: the settler attaches it once the node answers
                    log.warning("event=return_hello_queued consumer=%s error=%s", name, error)
            return {"root": channel.root, "sideKey": channel.side_key}

    async def on_deregister(self, registration: Registration) -> None:
        registration_id = registration.registration_id
        async with self._lock:
            await run_db(self.follower.stop, registration_id)
            await run_db(self.storage.delete, registration_id)
            self.registered.discard(registration_id)
            name = return_channel_name(registration_id)
            channel = await run_db(self.book.get, name)
            if channel is not None and not channel.closed:
                try:
                    await asyncio.to_thread(self.book.publish, name, Goodbye())
                except MamError as error:
                    log.warning("event=return_goodbye_queued consumer=%s error=%s", name, error)
        log.info("event=deregistered registration=%s", registration_id)


def _registered_ids(sessions: sessionmaker[Session]) -> set[str]:
    with sessions() as session:
        return set(session.scalars(select(Registration.registration_id)))


#: The grid's own books, read-only: ``/accounts``, ``/prices``, ``/audit``, ``/registrations``.
books_api = APIRouter(tags=["books"])


@books_api.get("/accounts")
async def accounts(books: BooksDep) -> dict[str, Any]:
    """The books: totals, consumers and producers (tokens; output in kWh)."""
    return await run_db(books.accounts)


@books_api.get("/prices")
async def prices(books: BooksDep) -> list[dict[str, Any]]:
    """The last 100 settled slices: price (tokens per kWh), method, output and usage."""
    return await run_db(books.slice_prices)


@books_api.get("/audit")
async def audit_status(audit: AuditDep) -> dict[str, Any]:
    """The audit trail: the ledger, records pending and sent, the latest with the link
    to its inclusion proof (``{"enabled": false}`` without GRID_LEDGER_URL)."""
    if audit is None:
        return {"enabled": False}
    return await run_db(audit.status)


@books_api.get("/registrations")
async def list_registrations(
    registrations: RegistrationsDep, book: ChannelBookDep
) -> list[dict[str, Any]]:
    """Registrants and the roots of their channels (never a sideKey)."""

    def load() -> list[dict[str, Any]]:
        out = []
        for row in registrations.all():
            channel = book.get(return_channel_name(row.registration_id))
            out.append(
                {
                    "registrationId": row.registration_id,
                    "itemName": row.item_name,
                    "itemType": row.item_type,
                    "role": row.role,
                    "root": row.root,
                    "returnRoot": channel.root if channel is not None else None,
                }
            )
        return out

    return await run_db(load)


def create_app(settings: GridSettings, *, background: bool = True) -> FastAPI:
    """The grid; ``background=False`` serves the APIs without the loops (API tests)."""
    engine = make_engine(settings.resolved_database_url())
    upgrade(engine, ENERGY_STORE)
    upgrade(engine, STORE)
    sessions = make_sessionmaker(engine)
    node = NodeApi(settings.iota_node_url, timeout=settings.iota_node_timeout)
    wallet = Wallet(
        settings.seed.get_secret_value(),
        settings.iota_node_url,
        engine,
        security=settings.security,
        depth=settings.depth,
        min_weight_magnitude=settings.min_weight_magnitude,
        request_timeout=settings.iota_node_timeout,
    )
    follower = ChannelFollower(node, sessions)
    book = ChannelBook(node, sessions, depth=settings.depth, mwm=settings.min_weight_magnitude)
    books = GridBooks(
        sessions,
        slice_seconds=settings.slice_seconds,
        fee_percent=settings.grid_fee_percent,
        pricing=settings.pricing,
        default_price=settings.grid_default_price,
    )
    # The audit trail (services/grid/audit.py): its outbox records are written by the books
    # in their own transactions; off while GRID_LEDGER_URL is empty.
    audit = AuditTrail(sessions, settings) if settings.audit_enabled else None
    if audit is not None:
        books.audit = audit.hook
    settlement = GridSettlement(settings, books, follower, book, wallet, node)
    storage = StorageStore(sessions, settings.storage_max_items)
    writer = BatchedWriter(storage)
    registrations = RegistrationStore(sessions)
    # One grid process per database: the set of registration ids is kept in memory so
    # that a storage call does not ask the database whether its owner exists.
    registered = _registered_ids(sessions)
    rules = GridRegistrations(follower, book, storage, registered)
    supervisor = Supervisor(settings.name)
    # /health: the devnet and (with the audit trail) the ledger, probed in the background.
    health = Health()
    health.probe("devnet", node_probe(settings.iota_node_url))
    if settings.grid_ledger_url:
        health.probe("ledger", http_probe(settings.grid_ledger_url.rstrip("/") + "/"))
    health.watch(supervisor.down)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if background:
            # compiled kernels load meanwhile: the first payout would otherwise wait for them
            warm = asyncio.create_task(asyncio.to_thread(wallet.warm_up))
            supervisor.start("reader", settlement.run_reader)
            supervisor.start("settler", settlement.run_settler)
            supervisor.start("attacher", settlement.run_attacher)
            supervisor.start("payment-feed", settlement.run_payment_feed)
            supervisor.start("payment-scan", settlement.run_payment_scan)
            supervisor.start("confirmer", settlement.run_confirmer)
            supervisor.start("payouts", settlement.run_payouts)
            supervisor.start("balance", settlement.run_balance)
            supervisor.start("address-pool", settlement.run_address_pool)
            supervisor.start("sweeper", settlement.run_sweeper)
            if audit is not None:
                supervisor.start("audit", audit.run)
            await health.start()
        log.info(
            "event=grid_start name=%s slice_seconds=%s pricing=%s fee_percent=%d",
            settings.name,
            settings.slice_seconds,
            settings.pricing,
            settings.grid_fee_percent,
        )
        if audit is not None:
            log.info(
                "event=audit_trail url=%s ledger=%s", settings.grid_ledger_url, audit.ledger_name
            )
        try:
            yield
        finally:
            if background:
                await asyncio.gather(warm, return_exceptions=True)
            await health.stop()
            await supervisor.stop()
            await writer.close()
            node.close()
            engine.dispose()
            log.info("event=grid_stop")

    app = FastAPI(
        title="Grid",
        description=(
            "The grid of the P2P energy simulation (seed 001): registers producers and "
            "consumers, stores their items, reads their MAM channels, prices each slice, "
            "requests payment from consumers and pays producers their share."
        ),
        version="0.1.0",
        lifespan=lifespan,
    )
    # the grid's loops (not a database engine) and its books, for tests and tools; the
    # books, the audit trail, the registrations and the return channels for the routes
    # (services/grid/deps.py)
    app.state.settlement = settlement
    app.state.books = books
    app.state.audit = audit
    app.state.registrations = registrations
    app.state.channel_book = book
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=MAX_ITEM_BYTES)
    app.add_middleware(RawPathMiddleware)
    limit_writes(app, settings)
    install_energy_error_handlers(app)

    async def is_registered(registration_id: str) -> bool:
        return registration_id in registered

    app.include_router(registration_router(registrations, rules))
    app.include_router(storage_router(storage, is_registered, writer))

    # GET / (name, status, confirmed balance) and GET /health (shared/health.py).
    app.include_router(
        service_router(
            settings.name,
            health,
            status=lambda: "degraded" if health.down() else "ok",
            index=lambda: {"balance": settlement.balance},
        )
    )

    def credited() -> dict[str, int]:
        """Income of the payment-request addresses: the payments the books confirmed."""
        return {"payments_confirmed": int(books.accounts()["totals"]["received"])}

    app.include_router(
        books_router(
            BooksSource(
                service=lambda: settings.name,
                node_url=settings.iota_node_url,
                wallet=lambda: wallet,
                credited=credited,
                invoiced=lambda purpose: purpose.startswith("payment-request"),
            )
        )
    )

    app.include_router(books_api)

    return app
