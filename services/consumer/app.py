"""The consumer's app: a buyer (shared/energy/buyer.py) whose usage per slice comes from a
household load model (shared/energy/simulation.py); it publishes it on its channel,
registers with the grid as ``consumer`` and pays each payment request exactly once."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy.orm import Session

from services.consumer.settings import ConsumerSettings
from shared.energy.buyer import STORE, Buyer, buyer_router
from shared.energy.messages import Usage
from shared.energy.party import Party, party_app
from shared.energy.roles import BUYER
from shared.energy.simulation import energy_kwh
from shared.energy.slices import Slice

__all__ = ["STORE", "create_app"]


def create_app(settings: ConsumerSettings, *, wallet: Any = None) -> FastAPI:
    party = Party(settings, role=BUYER, kind="consumer")
    buyer = Buyer(party, settings)
    model, clock = settings.model(), settings.clock()
    party.tail_fields.append(lambda: {"profile": settings.profile})

    def used(session: Session, period: Slice) -> Usage:
        return buyer.usage(session, period, energy_kwh(model, clock, period.start, period.end))

    def publish_due() -> int:
        published = 0
        for period in party.participant.due_slices():
            if party.participant.publish_slice(period, used) is not None:
                published += 1
        party.participant.flush()
        return published

    async def publish() -> None:
        await party.publish_loop(publish_due)

    return party_app(
        party,
        title=f"{settings.name} (consumer)",
        description=(
            "Seed 001 consumer: publishes its usage per slice, registers with the grid and "
            "pays the grid's payment requests on the devnet."
        ),
        tasks=[("channel", publish), ("requests", buyer.read_requests), ("payments", buyer.pay)],
        routers=[buyer_router],
        roles={"buyer": buyer},
        wallet=wallet,
        started=lambda: f" profile={settings.profile}",
    )
