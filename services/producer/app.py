"""The producer's app: the registration API for sources, their channels read, one output
message per slice on its own channel, registered with the grid.

Each source's ``output`` is stored in the transaction that moves the reader past it, and
counted into exactly one producer slice in the transaction that queues that slice's
message: an output that arrives after its slice was published is counted in the next one,
never dropped and never twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Query
from sqlalchemy import BigInteger, Float, Integer, String, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from services.producer.settings import ProducerSettings
from shared.db import make_engine, make_sessionmaker, run_db
from shared.energy.follower import ChannelFollower, HelloMissing
from shared.energy.messages import EnergyMessage, Output, ProducerOutput
from shared.energy.models import STORE as ENERGY_STORE
from shared.energy.models import EnergyBase, Registration
from shared.energy.participant import Participant
from shared.energy.registration import (
    EnergyApiError,
    RegistrationRequest,
    RegistrationStore,
    install_energy_error_handlers,
    registration_router,
)
from shared.energy.service import (
    BalanceWatch,
    participant_health,
    participant_running,
    status_router,
)
from shared.energy.slices import Slice, now_ms
from shared.mam.errors import NodeApiError
from shared.mam.tangle import NodeApi
from shared.migrations import Store, upgrade
from shared.ratelimit import limit_writes
from shared.tasks import Supervisor
from shared.web import BodySizeLimitMiddleware

__all__ = ["STORE", "ProducerSlice", "SourceReading", "create_app"]

log = logging.getLogger("producer")


class SourceReading(EnergyBase):
    """One source's output for one slice, as read from its channel."""

    __tablename__ = "producer_source_readings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    registration_id: Mapped[str] = mapped_column(String(256), index=True)
    start_time: Mapped[int] = mapped_column(BigInteger)
    end_time: Mapped[int] = mapped_column(BigInteger, index=True)
    output: Mapped[float] = mapped_column(Float)
    # The end of the producer slice that counted it (None: not counted yet).
    counted_in: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)


class ProducerSlice(EnergyBase):
    """What the producer published for one slice."""

    __tablename__ = "producer_slices"

    start_time: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    end_time: Mapped[int] = mapped_column(BigInteger)
    output: Mapped[float] = mapped_column(Float)
    producer_price: Mapped[int] = mapped_column(BigInteger)
    payment_address: Mapped[str] = mapped_column(String(90))
    readings: Mapped[int] = mapped_column(Integer)


# The producer's own tables (producer_*, on EnergyBase): services/producer/migrations.
STORE = Store(
    "producer", Path(__file__).parent / "migrations", EnergyBase.metadata, prefixes=("producer_",)
)


class Producer:
    """Everything the routes and tasks share."""

    def __init__(self, settings: ProducerSettings) -> None:
        self.settings = settings
        self.engine = make_engine(settings.resolved_database_url())
        self.sessions = make_sessionmaker(self.engine)
        upgrade(self.engine, ENERGY_STORE)
        upgrade(self.engine, STORE)
        self.node = NodeApi(settings.iota_node_url, timeout=settings.iota_node_timeout)
        self.registrations = RegistrationStore(self.sessions)
        self.follower = ChannelFollower(self.node, self.sessions)
        self.participant = Participant(
            self.sessions,
            self.node,
            item_name=settings.name,
            item_type="producer",
            slice_seconds=settings.slice_seconds,
            upstream_url=settings.grid_url,
            registration_id=settings.registration_id,
            depth=settings.depth,
            mwm=settings.min_weight_magnitude,
        )
        self.wallet: Any = None
        self.balance: BalanceWatch | None = None
        self.supervisor = Supervisor("producer")
        self.ready = False
        self.health = participant_health(self, settings)

    # -- registration rules (RegistrationHandler) ---------------------------

    async def on_register(
        self, registration_id: str, request: RegistrationRequest, previous: Registration | None
    ) -> dict[str, str]:
        if request.root is None:
            return {}  # nothing to read (yet); the source may register its channel later
        try:
            await asyncio.to_thread(
                self.follower.start, registration_id, request.root, request.sideKey
            )
        except HelloMissing as error:
            # 409 while nothing is at the root yet: the source's hello may still be on its way.
            raise EnergyApiError(409 if not error.visible else 400, str(error)) from None
        except NodeApiError:
            raise EnergyApiError(503, "The IOTA node cannot be reached; try again.") from None
        log.info(
            "event=source_registered registration=%s item_type=%s",
            registration_id,
            request.itemType[:64],
        )
        return {}

    async def on_deregister(self, registration: Registration) -> None:
        await asyncio.to_thread(self.follower.stop, registration.registration_id)
        log.info("event=source_deregistered registration=%s", registration.registration_id)

    # -- reading sources ------------------------------------------------------

    def _handle(self, session: Session, registration_id: str, message: EnergyMessage) -> None:
        if isinstance(message, Output | ProducerOutput):
            session.add(
                SourceReading(
                    registration_id=registration_id,
                    start_time=message.start_time,
                    end_time=message.end_time,
                    output=message.output,
                )
            )
        else:
            log.info(
                "event=source_message_ignored registration=%s command=%s",
                registration_id,
                type(message).__name__,
            )

    def poll_sources(self) -> int:
        handled = 0
        for registration_id in self.follower.open_ids():
            result = self.follower.poll(registration_id, self._handle)
            handled += result.handled
        return handled

    async def read_sources(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.poll_sources)
            except NodeApiError as error:
                log.warning("event=source_poll_failed error=%s", str(error)[:200])
            await asyncio.sleep(self.settings.poll_seconds)

    # -- publishing -------------------------------------------------------------

    def _build(self, address: str) -> Any:
        price = self.settings.producer_price

        def build(session: Session, period: Slice) -> ProducerOutput:
            uncounted = (SourceReading.counted_in.is_(None)) & (
                SourceReading.end_time <= period.end
            )
            total, count = session.execute(
                select(func.coalesce(func.sum(SourceReading.output), 0.0), func.count()).where(
                    uncounted
                )
            ).one()
            session.execute(
                update(SourceReading)
                .where(uncounted)
                .values(counted_in=period.end)
                .execution_options(synchronize_session=False)
            )
            output = round(float(total), 6)
            session.add(
                ProducerSlice(
                    start_time=period.start,
                    end_time=period.end,
                    output=output,
                    producer_price=price,
                    payment_address=address,
                    readings=int(count),
                )
            )
            return ProducerOutput(period.start, period.end, output, price, address)

        return build

    def publish_due(self) -> int:
        published = 0
        for period in self.participant.due_slices(delay_ms=self.settings.settle_ms()):
            # A fresh address of the producer's wallet for every slice's payment.
            address = self.wallet.new_address(f"producer slice {period.start}")
            message = self.participant.publish_slice(period, self._build(address))
            if isinstance(message, ProducerOutput):
                published += 1
                log.info(
                    "event=producer_output start=%d end=%d kwh=%s price=%d",
                    period.start,
                    period.end,
                    message.output,
                    message.producer_price,
                )
        self.participant.flush()
        return published

    async def publish(self) -> None:
        await asyncio.to_thread(self.participant.setup)
        self.ready = True
        registering = asyncio.create_task(self.participant.register())
        try:
            length = round(self.settings.slice_seconds * 1000)
            while True:
                try:
                    await asyncio.to_thread(self.publish_due)
                except NodeApiError as error:
                    log.warning("event=publish_failed error=%s", str(error)[:200])
                now = now_ms()
                wait = (length - (now - self.settings.settle_ms()) % length) / 1000 + 0.05
                await asyncio.sleep(min(wait, length / 1000))
        finally:
            registering.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await registering

    # -- views ----------------------------------------------------------------

    def recent_slices(self, limit: int) -> list[dict[str, Any]]:
        with self.sessions() as session:
            rows = session.scalars(
                select(ProducerSlice).order_by(ProducerSlice.start_time.desc()).limit(limit)
            )
            return [
                {
                    "startTime": row.start_time,
                    "endTime": row.end_time,
                    "output": row.output,
                    "producerPrice": row.producer_price,
                    "paymentIdOrAddress": row.payment_address,
                    "readings": row.readings,
                }
                for row in reversed(list(rows))
            ]

    def sources(self, limit: int) -> list[dict[str, Any]]:
        out = []
        for registration in self.registrations.all():
            position = self.follower.position(registration.registration_id)
            with self.sessions() as session:
                readings = list(
                    session.scalars(
                        select(SourceReading)
                        .where(SourceReading.registration_id == registration.registration_id)
                        .order_by(SourceReading.end_time.desc())
                        .limit(limit)
                    )
                )
                total = session.scalar(
                    select(func.coalesce(func.sum(SourceReading.output), 0.0)).where(
                        SourceReading.registration_id == registration.registration_id
                    )
                )
            out.append(
                {
                    "registrationId": registration.registration_id,
                    "itemName": registration.item_name,
                    "itemType": registration.item_type,
                    "root": registration.root,
                    "following": position is not None and not position.closed,
                    "goodbye": position is not None and position.closed,
                    "messagesRead": position.messages_read if position else 0,
                    "totalOutput": round(float(total or 0.0), 6),
                    "outputs": [
                        {"startTime": r.start_time, "endTime": r.end_time, "output": r.output}
                        for r in reversed(readings)
                    ],
                }
            )
        return out


def create_app(settings: ProducerSettings, *, wallet: Any = None) -> FastAPI:
    producer = Producer(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tasks = [("channel", producer.publish), ("sources", producer.read_sources)]
        try:
            async with participant_running(producer, settings, wallet, tasks):
                log.info(
                    "event=started name=%s port=%d", settings.name.replace(" ", "_"), settings.port
                )
                yield
        finally:
            log.info("event=stopped name=%s", settings.name.replace(" ", "_"))

    app = FastAPI(
        title=f"{settings.name} (producer)",
        description=(
            "Seed 001 producer: sources register their MAM channels here; it sums their "
            "output per slice and publishes it with its price for the grid."
        ),
        lifespan=lifespan,
    )
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    limit_writes(app, settings)
    install_energy_error_handlers(app)
    app.include_router(registration_router(producer.registrations, producer))
    app.state.producer = producer

    app.include_router(status_router(settings.name, "producer", producer))

    @app.get("/channel", responses={503: {"description": "the producer is starting"}})
    async def channel() -> dict[str, Any]:
        """The producer's own channel (root) and its registration with the grid."""
        if not producer.ready:
            raise EnergyApiError(503, "The producer is starting.")
        state = await run_db(producer.participant.state)
        return {
            "registrationId": state.registration_id,
            "root": state.root,
            "gridUrl": settings.grid_url,
            "registered": state.registered,
            "slicesPublished": state.slices_published,
            "pendingMessages": state.pending,
        }

    @app.get("/slices")
    async def slices(limit: int = Query(50, ge=1, le=500)) -> dict[str, Any]:
        """The producer's recent slices: output (kWh), price and payment address."""
        return {"slices": await run_db(producer.recent_slices, limit)}

    @app.get("/sources")
    async def sources(limit: int = Query(20, ge=1, le=500)) -> dict[str, Any]:
        """Registered sources, whether their channel is still read, their recent output."""
        return {"sources": await run_db(producer.sources, limit)}

    return app
