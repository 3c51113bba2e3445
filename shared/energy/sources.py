"""A seller's sources (the producer's): the seed's registration API for them, their
channels read, and what they delivered in a slice summed for the seller.

Each source's ``output`` is stored in the transaction that moves the reader past it, and
counted into exactly one slice in the transaction that publishes that slice: an output
that arrives after its slice was published is counted in the next one, never dropped and
never twice.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import BigInteger, Float, Integer, String, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from shared.db import run_db
from shared.energy.follower import HelloMissing
from shared.energy.messages import EnergyMessage, Output, ProducerOutput
from shared.energy.models import EnergyBase, Registration
from shared.energy.registration import EnergyApiError, RegistrationRequest, RegistrationStore
from shared.energy.slices import Slice
from shared.mam.errors import NodeApiError

if TYPE_CHECKING:
    from shared.energy.party import Party

__all__ = ["SourceReading", "Sources", "SourcesDep", "sources_router"]

log = logging.getLogger("energy.sources")


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


class Sources:
    """The sources registered with ``party`` (a RegistrationHandler for the seed's API)."""

    def __init__(self, party: Party) -> None:
        self.party = party
        self.sessions = party.sessions
        self.follower = party.follower
        self.registrations = RegistrationStore(party.sessions)

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

    # -- reading --------------------------------------------------------------

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

    def poll(self) -> int:
        handled = 0
        for registration_id in self.follower.open_ids():
            result = self.follower.poll(registration_id, self._handle)
            handled += result.handled
        return handled

    async def read(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.poll)
            except NodeApiError as error:
                log.warning("event=source_poll_failed error=%s", str(error)[:200])
            await asyncio.sleep(self.party.settings.poll_seconds)

    # -- what they delivered -------------------------------------------------------

    @staticmethod
    def delivered(session: Session, period: Slice) -> tuple[float, int]:
        """The sources' outputs not counted yet that ended by ``period``'s end, counted
        in ``period`` now: (kWh, readings)."""
        uncounted = (SourceReading.counted_in.is_(None)) & (SourceReading.end_time <= period.end)
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
        return float(total), int(count)

    # -- views ----------------------------------------------------------------

    def view(self, limit: int) -> list[dict[str, Any]]:
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


def _sources(request: Request) -> Sources:
    sources: Sources = request.app.state.sources
    return sources


SourcesDep = Annotated[Sources, Depends(_sources)]

# GET /sources; the app sets ``app.state.sources`` (the registration API is
# shared/energy/registration.py's router over ``Sources.registrations``).
sources_router = APIRouter()


@sources_router.get("/sources")
async def sources(source_list: SourcesDep, limit: int = Query(20, ge=1, le=500)) -> dict[str, Any]:
    """Registered sources, whether their channel is still read, their recent output."""
    return {"sources": await run_db(source_list.view, limit)}
