"""Wind and solar as seed-001 sources, next to their seed-000 energy-provider role.

With PRODUCER_URL set, the machine opens its restricted channel, publishes ``hello``,
registers with the producer (``PUT {PRODUCER_URL}/registration/{id}``, the id kept in its
database) and then one ``output`` message per slice, the kWh its energy model gives for
the slice. ``POST /source/goodbye`` (MACHINE_TOKEN, shared/machine/deps.py) says
``goodbye`` and deregisters, for good. ``GET /source`` shows the channel's root, the
registration and the last outputs.

:func:`attach_source` adds all of that to a machine app built by ``shared.machine``
without changing it: its routes join the app and its task runs in the app's lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

import socketio
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from pydantic import Field
from sqlalchemy import BigInteger, Float, Integer, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from shared.db import make_engine, make_sessionmaker, run_db
from shared.energy.client import RegistrationError
from shared.energy.messages import Output
from shared.energy.models import EnergyBase
from shared.energy.participant import Participant
from shared.energy.simulation import EnergyModel, SimClock, SolarPanel, WindTurbine, energy_kwh
from shared.energy.slices import Slice, now_ms
from shared.machine.deps import require_machine_token
from shared.machine.settings import MachineSettings
from shared.mam.errors import NodeApiError
from shared.mam.tangle import NodeApi
from shared.tasks import Supervisor

__all__ = ["EnergySourceSettings", "SourceOutput", "SourceRuntime", "attach_source", "router"]

log = logging.getLogger("energy.source")

SourceKind = Literal["wind", "solar"]


class EnergySourceSettings(MachineSettings):
    """MachineSettings plus the seed-001 source settings (all optional)."""

    producer_url: str | None = Field(
        None, pattern=r"^https?://", description="producer to register with; unset: no source"
    )
    registration_id: str | None = Field(
        None, min_length=8, max_length=64, description="default: random, kept in the database"
    )
    slice_seconds: float = Field(30.0, ge=0.5, le=3600, description="length of a time slice")
    time_scale: float = Field(1.0, gt=0, le=100_000, description="simulated seconds per second")
    sim_seed: int = Field(0, ge=0, description="seed of the energy model (reproducible runs)")
    sim_start_hour: float = Field(0.0, ge=0, lt=24, description="simulated hour at the epoch")
    sim_epoch_ms: int = Field(
        0, ge=0, description="wall-clock Unix ms at which simulated time starts (scenarios)"
    )
    capacity_kw: float = Field(5.0, gt=0, le=1e6, description="rated / peak power of the source")

    def model(self, kind: SourceKind) -> EnergyModel:
        if kind == "wind":
            return WindTurbine(seed=self.sim_seed, rated_kw=self.capacity_kw)
        return SolarPanel(seed=self.sim_seed, peak_kw=self.capacity_kw)

    def clock(self) -> SimClock:
        return SimClock(self.time_scale, self.sim_start_hour, self.sim_epoch_ms)


class SourceOutput(EnergyBase):
    """A slice this source published (kWh), for GET /source and the dashboard."""

    __tablename__ = "energy_source_outputs"

    start_time: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    end_time: Mapped[int] = mapped_column(BigInteger)
    output: Mapped[float] = mapped_column(Float)
    sequence: Mapped[int] = mapped_column(Integer, default=0)


class SourceRuntime:
    """The source's participant and its slice loop."""

    def __init__(self, settings: EnergySourceSettings, kind: SourceKind) -> None:
        self.settings = settings
        self.kind = kind
        self.model = settings.model(kind)
        self.clock = settings.clock()
        self.engine = make_engine(settings.resolved_database_url())
        self.sessions = make_sessionmaker(self.engine)
        self.node = NodeApi(settings.iota_node_url, timeout=settings.iota_node_timeout)
        self.participant = Participant(
            self.sessions,
            self.node,
            item_name=settings.name,
            item_type=kind,
            slice_seconds=settings.slice_seconds,
            upstream_url=settings.producer_url,
            registration_id=settings.registration_id,
            depth=settings.depth,
            mwm=settings.min_weight_magnitude,
        )
        self.supervisor = Supervisor(f"{settings.name}-source")
        self.wake = asyncio.Event()

    def output_of(self, period: Slice) -> float:
        return energy_kwh(self.model, self.clock, period.start, period.end)

    def _build(self, session: Session, period: Slice) -> Output:
        kwh = self.output_of(period)
        session.merge(SourceOutput(start_time=period.start, end_time=period.end, output=kwh))
        return Output(period.start, period.end, kwh)

    async def run(self) -> None:
        """Set up (hello), register, then publish each slice as it ends."""
        await asyncio.to_thread(self.participant.setup)
        await self.participant.register()
        while True:
            due = await run_db(self.participant.due_slices)
            for period in due:
                message = await run_db(self.participant.publish_slice, period, self._build)
                if message is not None:
                    log.info(
                        "event=source_output start=%d end=%d kwh=%s",
                        period.start,
                        period.end,
                        getattr(message, "output", None),
                    )
            await asyncio.to_thread(self.participant.flush)
            if (await run_db(self.participant.record)).retired:
                log.info("event=source_retired")
                while True:  # retired for good: nothing more to publish
                    await asyncio.sleep(3600)
            # Sleep until just after the current slice ends (or until woken).
            length = round(self.settings.slice_seconds * 1000)
            wait = (length - now_ms() % length) / 1000 + 0.05
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), wait)
            self.wake.clear()

    def recent(self, limit: int = 50) -> list[SourceOutput]:
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(SourceOutput).order_by(SourceOutput.start_time.desc()).limit(limit)
                )
            )

    async def view(self, limit: int) -> dict[str, Any]:
        try:
            state = await run_db(self.participant.state)
        except LookupError:
            return {"itemType": self.kind, "status": "starting"}
        rows = await run_db(self.recent, limit)
        return {
            "itemName": self.settings.name,
            "itemType": self.kind,
            "registrationId": state.registration_id,
            "root": state.root,
            "producerUrl": self.settings.producer_url,
            "registered": state.registered,
            "retired": state.retired,
            "slicesPublished": state.slices_published,
            "pendingMessages": state.pending,
            "sliceSeconds": self.settings.slice_seconds,
            "timeScale": self.settings.time_scale,
            "simulatedHour": round(self.clock.hour_of_day(now_ms()), 2),
            "outputs": [
                {"startTime": r.start_time, "endTime": r.end_time, "output": r.output}
                for r in reversed(rows)
            ],
        }

    def close(self) -> None:
        self.node.close()
        self.engine.dispose()


async def _runtime(request: Request) -> SourceRuntime | None:
    runtime: SourceRuntime | None = getattr(request.app.state, "source_runtime", None)
    return runtime


Runtime = Annotated[SourceRuntime | None, Depends(_runtime)]


def _started(runtime: SourceRuntime | None) -> SourceRuntime:
    # In the route's body, not the dependency: a request the route refuses anyway (422)
    # is refused so while the source starts too.
    if runtime is None:
        raise HTTPException(503, "the source is starting")
    return runtime


_STARTING: dict[int | str, dict[str, Any]] = {503: {"description": "the source is starting"}}

#: ``GET /source`` and ``POST /source/goodbye`` (MACHINE_TOKEN); the lifespan puts the
#: :class:`SourceRuntime` on ``app.state.source_runtime``.
router = APIRouter(tags=["source"])


@router.get("/source", responses=_STARTING)
async def source_view(runtime: Runtime, limit: int = 50) -> dict[str, Any]:
    """The seed-001 source: channel root, registration, recent outputs (kWh)."""
    runtime = _started(runtime)
    view = await runtime.view(max(1, min(limit, 500)))
    view["down"] = runtime.supervisor.down()
    return view


@router.post(
    "/source/goodbye",
    # The token is checked first: a caller without it learns nothing, not even "starting".
    dependencies=[require_machine_token],
    responses={
        **_STARTING,
        401: {"description": "no or a wrong MACHINE_TOKEN (or none is set, MACHINE_OPEN off)"},
        502: {"description": "the goodbye is stored but could not be sent yet"},
    },
)
async def source_goodbye(runtime: Runtime) -> dict[str, Any]:
    """Say goodbye on the channel and deregister from the producer, for good."""
    source = _started(runtime)
    try:
        retired = await source.participant.retire()
    except (RegistrationError, NodeApiError) as error:
        # The goodbye is stored and is attached by the source loop; say what failed.
        source.wake.set()
        raise HTTPException(502, f"goodbye stored; {str(error)[:200]}") from None
    source.wake.set()
    return {"success": True, "message": "OK" if retired else "already retired"}


def attach_source(
    asgi: socketio.ASGIApp, settings: EnergySourceSettings, kind: SourceKind
) -> socketio.ASGIApp:
    """Add the seed-001 source to a machine app (nothing happens without PRODUCER_URL)."""
    app = asgi.other_asgi_app
    assert isinstance(app, FastAPI)
    if settings.producer_url is None:
        return asgi
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        async with inner(app_) as state:
            runtime = SourceRuntime(settings, kind)
            app.state.source_runtime = runtime
            runtime.supervisor.start("source", runtime.run)
            try:
                yield state
            finally:
                await runtime.supervisor.stop()
                runtime.close()

    app.router.lifespan_context = lifespan
    app.include_router(router)
    return asgi
