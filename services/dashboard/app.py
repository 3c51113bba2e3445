"""The dashboard's app factory: the page, its machine list, the faucet proxy, the overview's
series (history + a live server-sent-events stream) and the devnet explorer's API."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from services.dashboard.access import LockReader
from services.dashboard.access import router as access_router
from services.dashboard.collector import Collector
from services.dashboard.deps import HttpDep, SettingsDep
from services.dashboard.energy import install_energy_view, plotly_js_path
from services.dashboard.explorer import router as explorer_router
from services.dashboard.series import SeriesStore
from services.dashboard.settings import DashboardSettings
from shared.health import Health, service_router
from shared.ratelimit import limit_writes
from shared.tasks import Supervisor
from shared.web import BodySizeLimitMiddleware, error_responses

__all__ = ["create_app"]

log = logging.getLogger("dashboard")
STATIC = Path(__file__).parent / "static"
# Plotly's wheel ships its browser bundle; every view loads it from us, never from a CDN.
PLOTLY_JS = plotly_js_path()
# Live overview streams at once; more get 503 so no client can pin the server.
MAX_STREAMS = 100


# The dashboard takes small JSON bodies only (a payment is ~150 bytes).
MAX_BODY_BYTES = 16 * 1024
# Clients remembered by the pay limiter at most (the oldest are forgotten first).
_MAX_TRACKED_CLIENTS = 10_000


class PayLimiter:
    """Per-client (IP address) limits of the faucet proxy: payments per minute and value
    per hour, over sliding windows."""

    def __init__(self, per_minute: int, value_per_hour: int) -> None:
        self.per_minute = per_minute
        self.value_per_hour = value_per_hour
        self._history: dict[str, deque[tuple[float, int]]] = {}

    def check(self, client: str, value: int, now: float | None = None) -> str | None:
        """None and the payment is recorded, or why it is refused."""
        now = time.monotonic() if now is None else now
        history = self._history.pop(client, deque())
        while history and history[0][0] < now - 3600:
            history.popleft()
        self._history[client] = history  # most recently used last
        if len(self._history) > _MAX_TRACKED_CLIENTS:
            del self._history[next(iter(self._history))]
        recent = sum(1 for at, _ in history if at >= now - 60)
        if recent >= self.per_minute:
            return f"at most {self.per_minute} payments per minute per client; wait a moment"
        spent = sum(v for _, v in history)
        if spent + value > self.value_per_hour:
            return (
                f"at most {self.value_per_hour}i per hour per client "
                f"({spent}i paid in the last hour)"
            )
        history.append((now, value))
        return None


class PayRequest(BaseModel):
    address: Annotated[str, Field(pattern=r"^[A-Z9]{81}([A-Z9]{9})?$")]
    value: Annotated[int, Field(gt=0)]


def _series(request: Request) -> SeriesStore:
    series: SeriesStore = request.app.state.series
    return series


def _limiter(request: Request) -> PayLimiter:
    limiter: PayLimiter = request.app.state.pay_limiter
    return limiter


SeriesDep = Annotated[SeriesStore, Depends(_series)]

#: The dashboard's own routes, module-level (no route is defined inside a function): what
#: one app needs (settings, series, pay limiter, HTTP client) is on its ``app.state``, put
#: there by :func:`create_app` and its lifespan.
router = APIRouter()


@router.get("/", response_model=None, responses={307: {"description": "to /ui/ (HTML asked)"}})
async def index(request: Request, settings: SettingsDep) -> dict[str, Any] | Response:
    """{"name", "status"}; a browser asking for HTML is sent to the page at /ui/."""
    if "text/html" in request.headers.get("accept", ""):
        return RedirectResponse("/ui/", status_code=307)
    return {"name": settings.name, "status": "running"}


@router.get("/api/series")
async def series_history(series: SeriesDep) -> dict[str, Any]:
    """Every series the server keeps (the past hour) and the totals, for a page load."""
    return {
        "seq": series.seq,
        "series": series.snapshot(),
        "totals": series.totals,
        "maxPoints": series.max_points,
        "historySeconds": series.history_seconds,
    }


@router.get(
    "/api/stream",
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "the event stream"},
        503: {"description": "too many live views open"},
    },
)
async def series_stream(request: Request, series: SeriesDep, after: int = 0) -> StreamingResponse:
    """Server-sent events: one ``points`` event per collection with the new points."""
    if request.app.state.streams >= MAX_STREAMS:
        raise HTTPException(503, f"too many live views open (limit {MAX_STREAMS})")

    async def events() -> AsyncIterator[str]:
        request.app.state.streams += 1
        seen = max(0, after)
        try:
            yield "retry: 2000\n\n"
            while not await request.is_disconnected():
                if series.seq > seen:
                    body = {
                        "seq": series.seq,
                        "series": series.snapshot(seen),
                        "totals": series.totals,
                    }
                    seen = series.seq
                    yield f"event: points\ndata: {json.dumps(body)}\n\n"
                else:
                    yield ": keep-alive\n\n"
                await series.wait(15)
        except asyncio.CancelledError:
            pass
        finally:
            request.app.state.streams -= 1

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/ui/vendor/plotly.min.js", include_in_schema=False)
async def plotly_js() -> FileResponse:
    return FileResponse(PLOTLY_JS, media_type="text/javascript")


@router.get("/api/machines")
async def machines(settings: SettingsDep) -> dict[str, Any]:
    """The machines the page shows, as the browser reaches them."""
    return {
        "machines": [m.model_dump(exclude={"api_url"}) for m in settings.machines],
        "pay_limit": settings.pay_limit,
    }


@router.post(
    "/api/pay",
    responses=error_responses(
        {
            400: "the body is not JSON",
            413: "body over 16 KB",
            422: "bad address or value, or the faucet refuses them (its reason)",
            429: "over PAY_PER_MINUTE or PAY_VALUE_PER_HOUR (Retry-After)",
            502: "the faucet is unreachable or refuses the dashboard (e.g. its token)",
            503: "the faucet is busy; try again (Retry-After)",
        }
    ),
)
async def pay(
    body: PayRequest,
    request: Request,
    settings: SettingsDep,
    limiter: Annotated[PayLimiter, Depends(_limiter)],
    client: HttpDep,
) -> dict[str, Any]:
    """Pay `value` to `address` from the devnet faucet (the demo's one-click payment)."""
    if body.value > settings.pay_limit:
        raise HTTPException(422, f"value is capped at {settings.pay_limit}i per payment")
    client_address = request.client.host if request.client else "unknown"
    refused = limiter.check(client_address, body.value)
    if refused is not None:
        log.info("event=pay_limited client=%s", client_address)
        raise HTTPException(429, refused, headers={"Retry-After": "60"})
    headers = {}
    if settings.faucet_token is not None:
        headers["Authorization"] = f"Bearer {settings.faucet_token.get_secret_value()}"
    try:
        reply = await client.post(
            settings.faucet_url.rstrip("/") + "/faucet",
            json={"address": body.address, "value": body.value},
            headers=headers,
        )
    except httpx.HTTPError as error:
        log.warning("event=faucet_unreachable error=%s", type(error).__name__)
        raise HTTPException(502, f"faucet unreachable ({type(error).__name__})") from None
    if reply.status_code >= 400:
        log.warning("event=faucet_refused status=%d", reply.status_code)
        if reply.status_code == 400:  # the faucet refuses this address or value
            raise HTTPException(422, f"faucet refused: {reply.text[:300]}")
        if reply.status_code == 503:  # busy, or its last payment is unconfirmed
            raise HTTPException(
                503, f"faucet busy: {reply.text[:300]}", headers={"Retry-After": "2"}
            )
        raise HTTPException(502, f"faucet refused: {reply.text[:300]}")
    log.info("event=paid address=%s value=%d", body.address[:12], body.value)
    result: dict[str, Any] = reply.json()
    return result


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The HTTP client, the series and the collector for the app's lifetime."""
    settings: DashboardSettings = app.state.settings
    async with httpx.AsyncClient(timeout=60) as client:
        app.state.http = client
        series = SeriesStore(settings.history_seconds, settings.max_points)
        app.state.series = series
        supervisor = Supervisor("dashboard")
        app.state.supervisor = supervisor
        supervisor.start("collector", Collector(settings, series, client).run)
        log.info("event=started port=%d machines=%d", settings.port, len(settings.machines))
        public_url = settings.public_url or f"http://localhost:{settings.port}/"
        log.info("event=demo_ready url=%s hint=open_this_page_in_a_browser", public_url)
        try:
            yield
        finally:
            app.state.supervisor = None
            await supervisor.stop()


def create_app(settings: DashboardSettings) -> FastAPI:
    health = Health()
    app = FastAPI(
        title="machine economy dashboard",
        description="Watch and drive the seed 000 machines from a browser.",
        lifespan=_lifespan,
    )

    def collector_down() -> dict[str, str]:
        supervisor: Supervisor | None = getattr(app.state, "supervisor", None)
        return supervisor.down() if supervisor is not None else {"collector": "starting"}

    health.watch(collector_down)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=MAX_BODY_BYTES)
    limit_writes(app, settings)
    app.state.settings = settings
    app.state.pay_limiter = PayLimiter(settings.pay_per_minute, settings.pay_value_per_hour)
    app.state.lock_reader = LockReader(settings)
    app.state.streams = 0
    app.include_router(router)
    # GET /health, the shared router (shared/health.py). The dashboard depends on no
    # service to serve its page: the collector shows a hung devnet or machine on the page
    # itself, so only the collector task counts here.
    app.include_router(service_router(settings.name, health, include_index=False))
    app.include_router(access_router)  # the Access panel (issue 23): GET /api/access
    app.include_router(explorer_router)
    install_energy_view(app)  # the seed-001 energy view at /ui/energy.html
    app.mount("/ui", StaticFiles(directory=STATIC, html=True), name="ui")
    return app
