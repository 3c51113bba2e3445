"""What the producer and the consumer services share: settings, wallet balance, status routes.

Both are seed-001 participants with a wallet of their own (SEED, security 2, key indexes
from 0, ``shared.iota.wallet``); ``GET /`` shows the wallet's confirmed balance, which a
background task refreshes (the node is never asked on the request path).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from fastapi import APIRouter
from pydantic import Field
from pydantic_settings import SettingsConfigDict
from sqlalchemy import Engine

from shared.books import BooksSource, books_router
from shared.health import Health, node_probe, service_router
from shared.machine.settings import slug
from shared.ratelimit import RateLimitSettings
from shared.settings import DatabaseUrl, LogLevel, NodeSettings
from shared.tasks import Supervisor

__all__ = [
    "BalanceWatch",
    "EnergyServiceSettings",
    "RunningParticipant",
    "default_wallet",
    "participant_health",
    "participant_running",
    "status_router",
]

log = logging.getLogger("energy.service")


class EnergyServiceSettings(RateLimitSettings, NodeSettings):
    """PORT, NAME, SEED, node, storage and slices: what every energy service reads."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    port: int = Field(3010, ge=1, le=65535, description="HTTP port")
    name: str = Field("energy", min_length=1, max_length=64, pattern=r"^[\w .-]+$")
    data_dir: Path = Field(Path("data"))
    database_url: DatabaseUrl = Field(None, description="default: sqlite under DATA_DIR")
    grid_url: str | None = Field(None, pattern=r"^https?://", description="grid to register with")
    registration_id: str | None = Field(
        None, min_length=8, max_length=64, description="default: random, kept in the database"
    )
    slice_seconds: float = Field(30.0, ge=0.5, le=3600, description="length of a time slice")
    poll_seconds: float = Field(1.0, gt=0, le=60, description="how often channels are read")
    min_weight_magnitude: int = Field(9, ge=1, le=243)
    depth: int = Field(3, ge=1, le=15)
    max_body_bytes: int = Field(64 * 1024, ge=1024, le=16 * 1024 * 1024)
    balance_seconds: float = Field(2.0, gt=0, le=600, description="balance refresh interval")
    log_level: LogLevel = Field("INFO")

    def resolved_database_url(self) -> str:
        """DATABASE_URL, or a SQLite file named after the service under DATA_DIR."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{(self.data_dir / f'{slug(self.name)}.sqlite').resolve()}"


class BalanceWatch:
    """The wallet's confirmed balance, refreshed in the background (None until known)."""

    def __init__(self, wallet: Any, interval: float) -> None:
        self.wallet = wallet
        self.interval = interval
        self.balance: int | None = None
        self._changed = asyncio.Event()

    def poke(self) -> None:
        """Refresh soon (after a payment was sent or seen)."""
        self._changed.set()

    async def refresh(self) -> int:
        self.balance = int(await asyncio.to_thread(self.wallet.balance))
        return self.balance

    async def run(self) -> None:
        while True:
            try:
                await self.refresh()
            except Exception as error:  # the node is down: keep the last known figure
                log.warning("event=balance_failed error=%s", type(error).__name__)
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), self.interval)


class RunningParticipant(Protocol):
    """What ``status_router`` and ``participant_running`` use of a producer or consumer."""

    ready: bool
    balance: BalanceWatch | None
    supervisor: Supervisor
    wallet: Any
    engine: Engine
    node: Any  # shared.mam.tangle.NodeApi
    health: Health


def default_wallet(settings: EnergyServiceSettings) -> Any:
    """The service's wallet: SEED, security 2, in the service's database."""
    from shared.iota.wallet import Wallet

    return Wallet(
        settings.seed.get_secret_value(),
        settings.iota_node_url,
        settings.resolved_database_url(),
        security=2,
        depth=settings.depth,
        min_weight_magnitude=settings.min_weight_magnitude,
        request_timeout=settings.iota_node_timeout,
    )


def participant_health(participant: RunningParticipant, settings: EnergyServiceSettings) -> Health:
    """The devnet probed in the background, the supervisor's parts, the channel's set-up."""
    health = Health()
    health.probe("devnet", node_probe(settings.iota_node_url))
    health.watch(participant.supervisor.down)

    def channel() -> dict[str, str]:
        return {} if participant.ready else {"channel": "setting up (hello not attached yet)"}

    health.watch(channel)
    return health


@contextlib.asynccontextmanager
async def participant_running(
    participant: RunningParticipant,
    settings: EnergyServiceSettings,
    wallet: Any,
    tasks: Sequence[tuple[str, Callable[[], Awaitable[None]]]],
) -> AsyncIterator[None]:
    """A producer's or consumer's lifespan: its wallet (``wallet``, or its own from the
    settings, closed at the end), the balance watch, ``tasks`` under its supervisor; on
    exit everything stopped and closed."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    own_wallet = wallet
    if own_wallet is None:
        own_wallet = await asyncio.to_thread(default_wallet, settings)
        await asyncio.to_thread(own_wallet.warm_up)
    participant.wallet = own_wallet
    participant.balance = BalanceWatch(own_wallet, settings.balance_seconds)
    for name, task in tasks:
        participant.supervisor.start(name, task)
    participant.supervisor.start("balance", participant.balance.run)
    await participant.health.start()
    try:
        yield
    finally:
        await participant.health.stop()
        await participant.supervisor.stop()
        participant.node.close()
        if wallet is None:
            own_wallet.close()
        participant.engine.dispose()


def status_router(name: str, role: str, participant: RunningParticipant) -> APIRouter:
    """``GET /`` (name, status, confirmed balance) and ``GET /health`` of an energy service
    (the shared router, shared/health.py)."""

    def index() -> dict[str, Any]:
        watch = participant.balance
        return {"balance": watch.balance if watch is not None else None}

    router = service_router(
        name,
        participant.health,
        status=lambda: "running" if participant.ready else "starting",
        index=index,
        tags=[role],
    )
    router.include_router(
        books_router(
            BooksSource(
                service=lambda: name,
                node_url=participant.node.url,
                wallet=lambda: participant.wallet,
            )
        )
    )
    return router
