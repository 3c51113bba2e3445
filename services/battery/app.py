"""The battery's app: a party that is both a buyer and a seller (shared/energy/buyer.py,
shared/energy/seller.py), registered with the grid as ``itemType: battery, role: both``.

For every slice it decides (services/battery/policy.py) from the grid's price signal, the
price of the latest slice the grid settled (``GET {GRID_URL}/prices``):

- below BUY_BELOW it charges: publishes the kWh as its usage, is billed by the grid and
  pays the request like a consumer;
- above SELL_ABOVE it discharges: offers the kWh at its asking price to a fresh address,
  and the grid pays it its share like a producer;
- every slice it quotes (an offer of 0 kWh when it does not sell), so the grid never waits
  for its quote; it asks the going price, never less than SELL_ABOVE.

Its state of charge is INITIAL_CHARGE plus what it bought less what it sold, both recorded
in the transaction that publishes the slice (the buyer's and the seller's tables): a slice
is charged or discharged exactly once, also across a SIGKILL.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, FastAPI, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.battery.policy import decide
from services.battery.settings import BatterySettings
from shared.books import NodeLedger
from shared.db import run_db
from shared.energy.buyer import Buyer, UsageRecord, buyer_router
from shared.energy.messages import EnergyMessage
from shared.energy.party import Party, party_app
from shared.energy.roles import SELLER_AND_BUYER
from shared.energy.seller import ProducerSlice, Seller, seller_router
from shared.energy.slices import Slice

__all__ = ["Battery", "create_app"]

log = logging.getLogger("battery")

# How many of its newest offer addresses the income refresh asks the node about.
INCOME_WINDOW = 200


class Battery:
    """The battery's decisions and figures over its party's roles."""

    def __init__(self, settings: BatterySettings) -> None:
        self.settings = settings
        self.party = Party(settings, role=SELLER_AND_BUYER, kind="battery")
        self.buyer = Buyer(self.party, settings)
        self.seller = Seller(self.party, price=lambda _period: settings.asking_price(self.price))
        self.price: float | None = None  # the grid's price signal (None: not known yet)
        self.received: int = 0  # confirmed payouts at its offer addresses
        self._income_at: dict[str, int] = {}
        self.last_action = "idle"

    # -- the state of charge ---------------------------------------------------------

    def energy(self, session: Session) -> tuple[float, float]:
        """(bought, sold) kWh so far, as recorded by the buyer and the seller."""
        bought = session.scalar(select(func.coalesce(func.sum(UsageRecord.usage), 0.0)))
        sold = session.scalar(select(func.coalesce(func.sum(ProducerSlice.output), 0.0)))
        return float(bought or 0.0), float(sold or 0.0)

    def charge_of(self, session: Session) -> float:
        bought, sold = self.energy(session)
        return self.settings.initial_charge + bought - sold

    # -- publishing ------------------------------------------------------------------

    def _slice(self, period: Slice) -> list[EnergyMessage]:
        # The address is made outside the publishing transaction (the wallet's own).
        address = self.seller.new_address(period)
        price = self.price

        def build(session: Session, slot: Slice) -> Sequence[EnergyMessage]:
            settings = self.settings
            decision = decide(
                charge=self.charge_of(session),
                capacity=settings.capacity,
                rate=settings.charge_rate,
                price=price,
                buy_below=settings.buy_below,
                sell_above=settings.sell_above,
            )
            self.last_action = decision.action
            messages: list[EnergyMessage] = []
            if decision.action == "buy":
                messages.append(self.buyer.usage(session, slot, decision.kwh))
            sold = decision.kwh if decision.action == "sell" else 0.0
            messages.append(self.seller.offer(session, slot, address, sold, 0))
            return messages

        messages = self.party.participant.publish_messages(period, build)
        if messages:
            log.info(
                "event=battery_slice start=%d action=%s price=%s",
                period.start,
                self.last_action,
                "none" if price is None else f"{price:.4f}",
            )
        return messages

    def publish_due(self) -> int:
        published = sum(1 for period in self.party.participant.due_slices() if self._slice(period))
        self.party.participant.flush()
        return published

    async def publish(self) -> None:
        await self.party.publish_loop(self.publish_due)

    # -- the price signal and the income ------------------------------------------------

    async def watch_prices(self) -> None:
        """Keep the price of the latest settled slice (the grid's ``GET /prices``)."""
        grid = self.settings.grid_url
        if grid is None:
            # no grid, no price: the battery stays idle (a supervised task must not end)
            await asyncio.Event().wait()
            return
        async with httpx.AsyncClient(timeout=10) as client:
            while True:
                try:
                    reply = await client.get(grid.rstrip("/") + "/prices")
                    reply.raise_for_status()
                    prices = reply.json()
                    if prices:
                        self.price = float(prices[-1]["price"])
                except (httpx.HTTPError, ValueError, KeyError, TypeError) as error:
                    log.warning("event=price_signal_failed error=%s", type(error).__name__)
                await asyncio.sleep(min(self.settings.slice_seconds / 2, 5.0))

    def _income(self) -> int:
        """Confirmed tokens at its offer addresses. The grid pays to a seller's latest
        address, so only the newest INCOME_WINDOW addresses are asked again; the older ones
        keep the figure they had (the node is not asked about thousands every refresh)."""
        addresses = [a[:81] for a in self.seller.payment_addresses(limit=INCOME_WINDOW)]
        if addresses:
            ledger = NodeLedger(
                self.settings.iota_node_url, timeout=self.settings.iota_node_timeout
            )
            try:
                fresh = dict.fromkeys(addresses, 0)
                for incoming in ledger.incoming(addresses):
                    if incoming.confirmed:
                        fresh[incoming.address] += incoming.value
            finally:
                ledger.close()
            self._income_at.update(fresh)
        return sum(self._income_at.values())

    async def watch_income(self) -> None:
        """Keep what the grid paid it (confirmed, at its offer addresses): off the request
        path, the node is asked here only."""
        while True:
            try:
                self.received = await asyncio.to_thread(self._income)
            except Exception as error:  # the node is down: keep the last known figure
                log.warning("event=income_failed error=%s", type(error).__name__)
            await asyncio.sleep(self.settings.balance_seconds)

    # -- the view ----------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        with self.party.sessions() as session:
            bought, sold = self.energy(session)
        settings = self.settings
        charge = settings.initial_charge + bought - sold
        paid = self.buyer.paid_total()
        return {
            "stateOfCharge": round(charge, 6),
            "stateOfChargePercent": round(100 * charge / settings.capacity, 2),
            "capacity": settings.capacity,
            "chargeRate": settings.charge_rate,
            "buyBelow": settings.buy_below,
            "sellAbove": settings.sell_above,
            "priceSignal": self.price,
            "lastAction": self.last_action,
            "bought": round(bought, 6),
            "sold": round(sold, 6),
            "paid": paid,
            "received": self.received,
            "profit": self.received - paid,
        }


def _battery(request: Request) -> Battery:
    battery: Battery = request.app.state.battery
    return battery


BatteryDep = Annotated[Battery, Depends(_battery)]

battery_router = APIRouter(tags=["battery"])


@battery_router.get("/battery")
async def battery_status(battery: BatteryDep) -> dict[str, Any]:
    """State of charge (kWh, %), energy bought and sold (kWh), tokens paid and received
    (confirmed) and the profit, the price signal and the last decision."""
    return await run_db(battery.status)


def create_app(settings: BatterySettings, *, wallet: Any = None) -> FastAPI:
    battery = Battery(settings)
    buyer = battery.buyer
    return party_app(
        battery.party,
        title=f"{settings.name} (battery)",
        description=(
            "A battery on the seed-001 grid: buys energy when the slice price is below its "
            "buy threshold, sells it when above its sell threshold, within its capacity "
            "and charge rate; pays and is paid on the devnet."
        ),
        tasks=[
            ("channel", battery.publish),
            ("prices", battery.watch_prices),
            ("income", battery.watch_income),
            ("requests", buyer.read_requests),
            ("payments", buyer.pay),
        ],
        routers=[battery_router, buyer_router, seller_router],
        roles={"battery": battery, "buyer": buyer, "seller": battery.seller},
        wallet=wallet,
    )
