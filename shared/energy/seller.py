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
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field, field_validator
from sqlalchemy import BigInteger, Float, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from shared.db import run_db
from shared.energy.messages import EnergyMessage, ProducerOutput
from shared.energy.models import EnergyBase
from shared.energy.service import EnergyServiceSettings
from shared.energy.simulation import SimClock
from shared.energy.slices import Slice
from shared.migrations import Store, upgrade

if TYPE_CHECKING:
    from shared.energy.party import Party

__all__ = [
    "MAX_PRICE",
    "STORE",
    "Offer",
    "PriceSchedule",
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


#: The most tokens per kWh a seller may ask (PRODUCER_PRICE and every scheduled price).
MAX_PRICE = 10**12


@dataclass(frozen=True, slots=True)
class PriceSchedule:
    """A day profile of asking prices: ``(hour, price)`` steps, each price holding from its
    simulated hour of day until the next step's, the last one wrapping past midnight to the
    first. Written ``"<hour>:<price>,..."``, e.g. ``"0:20,6:100,17:250,21:100"``: 20 from
    midnight, 100 from 06:00, 250 for the evening peak from 17:00, 100 from 21:00."""

    steps: tuple[tuple[float, int], ...]

    @classmethod
    def parse(cls, text: str) -> PriceSchedule:
        """ValueError naming the step that is wrong."""
        steps: list[tuple[float, int]] = []
        for item in (part.strip() for part in text.split(",")):
            if not item:
                continue
            hour_text, colon, price_text = item.partition(":")
            try:
                if not colon:
                    raise ValueError
                hour, price = float(hour_text), int(price_text)
            except ValueError:
                raise ValueError(f"{item!r}: use <hour>:<price>, e.g. 17:250") from None
            if not (math.isfinite(hour) and 0 <= hour < 24):
                raise ValueError(f"{item!r}: the hour must be from 0 to below 24")
            if not 0 <= price <= MAX_PRICE:
                raise ValueError(f"{item!r}: the price must be from 0 to {MAX_PRICE}")
            if steps and hour <= steps[-1][0]:
                raise ValueError(f"{item!r}: the hours must increase")
            steps.append((hour, price))
        if not steps:
            raise ValueError("give at least one <hour>:<price>")
        return cls(tuple(steps))

    def price_at(self, hour: float) -> int:
        """The price at ``hour`` of the day (0 <= hour < 24)."""
        price = self.steps[-1][1]  # before the first step: the last one, from the day before
        for start, step_price in self.steps:
            if start > hour:
                break
            price = step_price
        return price


@lru_cache(maxsize=4)
def _schedule(text: str) -> PriceSchedule:
    return PriceSchedule.parse(text)


class SellerSettings(EnergyServiceSettings):
    """EnergyServiceSettings plus the seller's price (fixed, or by the hour of the simulated
    day) and aggregation delay."""

    producer_price: int = Field(
        10, ge=0, le=MAX_PRICE, description="asking price in IOTA tokens per kWh (producerPrice)"
    )
    producer_price_schedule: str = Field(
        "",
        description="a day profile of asking prices, '<hour>:<price>,...'; replaces "
        "PRODUCER_PRICE when set",
    )
    # The simulated day the schedule's hours are in: the sources' and households' clock
    # (shared/energy/simulation.py), so the evening peak in price meets theirs in load.
    time_scale: float = Field(1.0, gt=0, le=100_000, description="simulated seconds per second")
    sim_start_hour: float = Field(0.0, ge=0, lt=24, description="simulated hour at epoch 0")
    settle_seconds: float | None = Field(
        None,
        ge=0,
        le=3600,
        description="wait this long after a slice ends for its sources (default: half a slice)",
    )

    @field_validator("producer_price_schedule")
    @classmethod
    def _check_schedule(cls, value: str) -> str:
        if value.strip():
            _schedule(value)
        return value.strip()

    def settle_ms(self) -> int:
        seconds = self.slice_seconds / 2 if self.settle_seconds is None else self.settle_seconds
        return round(seconds * 1000)

    def price_for(self, period: Slice) -> int:
        """The asking price of ``period``: the schedule's at the simulated hour the slice
        starts (PRODUCER_PRICE without a schedule)."""
        if not self.producer_price_schedule:
            return self.producer_price
        hour = SimClock(self.time_scale, self.sim_start_hour).hour_of_day(period.start)
        return _schedule(self.producer_price_schedule).price_at(hour)


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

    def __init__(self, party: Party, price: Callable[[Slice], int]) -> None:
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
        price = self.price(period)
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
