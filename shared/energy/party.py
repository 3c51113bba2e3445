"""An energy party of the machine kit: what every seed-001 producer, consumer or battery is
assembled from, whatever its roles.

A :class:`Party` owns the service's database (engine and sessions, its stores upgraded),
the node client, the channel follower, its own channel (:class:`Participant`, registered
with the grid with its declared role), the supervisor and the health of its parts. The
roles (:mod:`shared.energy.seller`, :mod:`shared.energy.buyer`) are built on a party and
add their tasks, routes and ``GET /channel`` fields; a service shell composes them::

    party = Party(settings, role=SELLER, kind="producer")
    seller = Seller(party, price=settings.price_for)
    app = party_app(party, title=..., description=..., tasks=[...],
                    routers=[seller_router], roles={"seller": seller})

The wallet is opened by the lifespan (``participant_running``) and set on the party.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request

from shared.db import make_engine, make_sessionmaker, run_db
from shared.energy.client import RegistrationAnswer
from shared.energy.follower import ChannelFollower
from shared.energy.models import STORE as ENERGY_STORE
from shared.energy.participant import Participant
from shared.energy.registration import EnergyApiError, install_energy_error_handlers
from shared.energy.roles import Role
from shared.energy.service import (
    BalanceWatch,
    EnergyServiceSettings,
    participant_health,
    participant_running,
    status_router,
)
from shared.energy.slices import now_ms
from shared.mam.errors import NodeApiError
from shared.mam.tangle import NodeApi
from shared.migrations import Store, upgrade
from shared.ratelimit import limit_writes
from shared.tasks import Supervisor
from shared.web import BodySizeLimitMiddleware

__all__ = ["Party", "PartyDep", "channel_router", "party_app"]

log = logging.getLogger("energy.party")

# What a role adds to ``GET /channel``: called in a worker thread, returns fields.
ChannelFields = Callable[[], dict[str, Any]]


class Party:
    """Everything a party's roles, routes and tasks share (see the module docstring)."""

    def __init__(
        self,
        settings: EnergyServiceSettings,
        *,
        role: Role,
        kind: str,
        stores: Iterable[Store] = (),
    ) -> None:
        self.settings = settings
        self.role = role
        # what the party is called in its title, logs and status tags (producer, ...)
        self.kind = kind
        self.engine = make_engine(settings.resolved_database_url())
        self.sessions = make_sessionmaker(self.engine)
        upgrade(self.engine, ENERGY_STORE)
        for store in stores:
            upgrade(self.engine, store)
        self.node = NodeApi(settings.iota_node_url, timeout=settings.iota_node_timeout)
        self.follower = ChannelFollower(self.node, self.sessions)
        self.participant = Participant(
            self.sessions,
            self.node,
            item_name=settings.name,
            item_type=role.item_type,
            role=role.declared,
            slice_seconds=settings.slice_seconds,
            upstream_url=settings.grid_url,
            registration_id=settings.registration_id,
            depth=settings.depth,
            mwm=settings.min_weight_magnitude,
        )
        self.wallet: Any = None
        self.balance: BalanceWatch | None = None
        self.supervisor = Supervisor(kind)
        self.ready = False
        self.health = participant_health(self, settings)
        # GET /channel: the roles' fields after the party's own, the shell's last
        self.channel_fields: list[ChannelFields] = []
        self.tail_fields: list[ChannelFields] = []
        # called with the grid's answer once the grid took the registration
        self.on_registered: list[Callable[[RegistrationAnswer | None], Awaitable[None]]] = []

    def poke_balance(self) -> None:
        if self.balance is not None:
            self.balance.poke()

    async def _register(self) -> None:
        answer = await self.participant.register()
        for hook in self.on_registered:
            await hook(answer)

    async def publish_loop(self, publish_due: Callable[[], int], *, delay_ms: int = 0) -> None:
        """Set the channel up (``hello``), register, then ``publish_due`` after every slice
        ends (``delay_ms`` later), for ever; the node being down only delays it."""
        await asyncio.to_thread(self.participant.setup)
        self.ready = True
        registering = asyncio.create_task(self._register())
        length = round(self.settings.slice_seconds * 1000)
        try:
            while True:
                try:
                    await asyncio.to_thread(publish_due)
                except NodeApiError as error:
                    log.warning("event=publish_failed error=%s", str(error)[:200])
                wait = (length - (now_ms() - delay_ms) % length) / 1000 + 0.05
                await asyncio.sleep(min(wait, length / 1000))
        finally:
            registering.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await registering

    def channel_view(self) -> dict[str, Any]:
        """``GET /channel``: the party's channel (never its side key) and registration."""
        state = self.participant.state()
        view: dict[str, Any] = {
            "registrationId": state.registration_id,
            "root": state.root,
            "gridUrl": self.settings.grid_url,
            "registered": state.registered,
        }
        for fields in self.channel_fields:
            view.update(fields())
        view["slicesPublished"] = state.slices_published
        view["pendingMessages"] = state.pending
        for fields in self.tail_fields:
            view.update(fields())
        return view


def _party(request: Request) -> Party:
    party: Party = request.app.state.party
    return party


PartyDep = Annotated[Party, Depends(_party)]

channel_router = APIRouter()


@channel_router.get("/channel", responses={503: {"description": "the service is starting"}})
async def channel(party: PartyDep) -> dict[str, Any]:
    """The service's own channel (root), its registration with the grid and, for a buyer,
    the grid's return channel."""
    if not party.ready:
        raise EnergyApiError(503, f"The {party.kind} is starting.")
    return await run_db(party.channel_view)


def party_app(
    party: Party,
    *,
    title: str,
    description: str,
    tasks: Sequence[tuple[str, Callable[[], Awaitable[None]]]],
    routers: Sequence[APIRouter] = (),
    roles: Mapping[str, Any] | None = None,
    wallet: Any = None,
    started: Callable[[], str] = lambda: "",
) -> FastAPI:
    """The FastAPI app of a party: its lifespan (wallet, balance, ``tasks`` supervised),
    body limit, write rate limit, the seed's error bodies, ``GET /``, ``/health``,
    ``/books``, ``/channel`` and the roles' ``routers`` (their dependencies find the
    roles by name in ``roles``: ``{"buyer": buyer}``)."""
    settings = party.settings
    name = settings.name.replace(" ", "_")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            async with participant_running(party, settings, wallet, tasks):
                log.info("event=started name=%s port=%d%s", name, settings.port, started())
                yield
        finally:
            log.info("event=stopped name=%s", name)

    app = FastAPI(title=title, description=description, lifespan=lifespan)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    limit_writes(app, settings)
    install_energy_error_handlers(app)
    app.state.party = party
    for role_name, role in (roles or {}).items():
        setattr(app.state, role_name, role)
    for router in routers:
        app.include_router(router)
    app.include_router(status_router(settings.name, party.kind, party))
    app.include_router(channel_router)
    return app
