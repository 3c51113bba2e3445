"""The *seller* role of the machine kit: a party that publishes, for every slice, what it
delivered to the grid with its asking price and a fresh address of its own wallet, and is
paid there by the grid (the producer; a battery when it discharges).

    {"command":"output","startTime":...,"endTime":...,"output":7.421,
     "producerPrice":10,"paymentIdOrAddress":"PPP...QQQ"}

What was delivered is the shell's business (the producer sums its sources,
:mod:`shared.energy.sources`; a battery discharges): the seller records the slice it
published in the transaction that queues its message, so a slice is offered exactly once.
The tables keep the producer's names (``producer_*``, store ``producer``), so a producer's
database made before the kit upgrades unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field
from sqlalchemy import BigInteger, Float, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from shared.db import run_db
from shared.energy.messages import EnergyMessage, ProducerOutput
from shared.energy.models import EnergyBase
from shared.energy.service import EnergyServiceSettings
from shared.energy.slices import Slice
from shared.migrations import Store, upgrade

if TYPE_CHECKING:
    from shared.energy.party import Party

__all__ = [
    "STORE",
    "Offer",
    "ProducerSlice",
    "Seller",
    "SellerDep",
    "SellerSettings",
    "seller_router",
]

log = logging.getLogger("energy.seller")

# What the shell delivered in a slice: (kWh, how many readings it summed), computed in the
# transaction that publishes the slice (it may mark what it counted there).
Offer = Callable[[Session, Slice], tuple[float, int]]


class SellerSettings(EnergyServiceSettings):
    """EnergyServiceSettings plus the seller's price and aggregation delay."""

    producer_price: int = Field(
        10, ge=0, le=10**12, description="asking price in IOTA tokens per kWh (producerPrice)"
    )
    settle_seconds: float | None = Field(
        None,
        ge=0,
        le=3600,
        description="wait this long after a slice ends for its sources (default: half a slice)",
    )

    def settle_ms(self) -> int:
        seconds = self.slice_seconds / 2 if self.settle_seconds is None else self.settle_seconds
        return round(seconds * 1000)


class ProducerSlice(EnergyBase):
    """What the seller published for one slice."""

    __tablename__ = "producer_slices"

    start_time: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    end_time: Mapped[int] = mapped_column(BigInteger)
    output: Mapped[float] = mapped_column(Float)
    producer_price: Mapped[int] = mapped_column(BigInteger)
    payment_address: Mapped[str] = mapped_column(String(90))
    readings: Mapped[int] = mapped_column(Integer)


# The seller's tables (producer_*, on EnergyBase; the sources' readings are the producer's
# but in the same store): shared/energy/migrations/seller.
STORE = Store(
    "producer",
    Path(__file__).parent / "migrations" / "seller",
    EnergyBase.metadata,
    prefixes=("producer_",),
    models=("shared.energy.sources",),
)


class Seller:
    """The seller role of ``party`` (see the module docstring)."""

    def __init__(self, party: Party, price: Callable[[], int]) -> None:
        self.party = party
        self.sessions = party.sessions
        upgrade(party.engine, STORE)  # the role's own tables, in the party's database
        self.price = price

    def new_address(self, period: Slice) -> str:
        """A fresh address of the party's wallet for ``period``'s payment."""
        return str(self.party.wallet.new_address(f"producer slice {period.start}"))

    def offer(
        self, session: Session, period: Slice, address: str, kwh: float, readings: int
    ) -> ProducerOutput:
        """Record and return the slice's offer (in the transaction that publishes it)."""
        price = self.price()
        output = round(float(kwh), 6)
        session.add(
            ProducerSlice(
                start_time=period.start,
                end_time=period.end,
                output=output,
                producer_price=price,
                payment_address=address,
                readings=int(readings),
            )
        )
        return ProducerOutput(period.start, period.end, output, price, address)

    def publish(self, period: Slice, delivered: Offer) -> EnergyMessage | None:
        """Publish ``period``'s offer: what ``delivered`` says, at the price, to a fresh
        address (blocking; one slice exactly once, see Participant.publish_slice)."""
        address = self.new_address(period)

        def build(session: Session, slot: Slice) -> ProducerOutput:
            kwh, readings = delivered(session, slot)
            return self.offer(session, slot, address, kwh, readings)

        message = self.party.participant.publish_slice(period, build)
        if isinstance(message, ProducerOutput):
            log.info(
                "event=producer_output start=%d end=%d kwh=%s price=%d",
                period.start,
                period.end,
                message.output,
                message.producer_price,
            )
        return message

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

    def payment_addresses(self, limit: int | None = None) -> list[str]:
        """The addresses the seller asked to be paid at, newest first (``limit`` of them)."""
        query = select(ProducerSlice.payment_address).order_by(ProducerSlice.start_time.desc())
        with self.sessions() as session:
            return list(session.scalars(query.limit(limit)))


def _seller(request: Request) -> Seller:
    seller: Seller = request.app.state.seller
    return seller


SellerDep = Annotated[Seller, Depends(_seller)]

# GET /slices; the app sets ``app.state.seller``.
seller_router = APIRouter()


@seller_router.get("/slices")
async def slices(seller: SellerDep, limit: int = Query(50, ge=1, le=500)) -> dict[str, Any]:
    """The recent slices offered: output (kWh), price and payment address."""
    return {"slices": await run_db(seller.recent_slices, limit)}
