"""The producer's app: a seller (shared/energy/seller.py) whose output is what its sources
(shared/energy/sources.py) registered and reported; one output message per slice on its
own channel, registered with the grid as ``producer``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from services.producer.settings import ProducerSettings
from shared.energy.party import Party, party_app
from shared.energy.registration import registration_router
from shared.energy.roles import SELLER
from shared.energy.seller import STORE, Seller, seller_router
from shared.energy.sources import Sources, sources_router

__all__ = ["STORE", "create_app"]


def create_app(settings: ProducerSettings, *, wallet: Any = None) -> FastAPI:
    party = Party(settings, role=SELLER, kind="producer")
    seller = Seller(party, price=settings.price_for)
    sources = Sources(party)

    def publish_due() -> int:
        published = 0
        for period in party.participant.due_slices(delay_ms=settings.settle_ms()):
            if seller.publish(period, sources.delivered) is not None:
                published += 1
        party.participant.flush()
        return published

    async def publish() -> None:
        await party.publish_loop(publish_due, delay_ms=settings.settle_ms())

    return party_app(
        party,
        title=f"{settings.name} (producer)",
        description=(
            "Seed 001 producer: sources register their MAM channels here; it sums their "
            "output per slice and publishes it with its price for the grid."
        ),
        tasks=[("channel", publish), ("sources", sources.read)],
        routers=[
            registration_router(sources.registrations, sources),
            seller_router,
            sources_router,
        ],
        roles={"seller": seller, "sources": sources},
        wallet=wallet,
    )
