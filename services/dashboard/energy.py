"""The dashboard's energy view (seed 001): live charts of the grid's flow.

The page (``/ui/energy.html``) polls ``GET /api/energy``, which this module answers by asking
the grid, the producers and the consumers (server side, so the browser needs to reach
only the dashboard, and the services need no CORS). Charts are drawn by plotly.js, served
from the plotly wheel's own ``package_data/plotly.min.js``: nothing comes from a CDN.

Settings (environment, all optional; without them the page says what to set):

- ``ENERGY_GRID_URL``: the grid (``http://grid:4000``)
- ``ENERGY_PRODUCER_URLS``: producers, comma-separated (``http://producer:3010``)
- ``ENERGY_CONSUMER_URLS``: consumers, comma-separated
- ``ENERGY_BATTERY_URLS``: batteries, comma-separated (``http://battery:3030``)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import RedirectResponse
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["EnergyViewSettings", "install_energy_view", "plotly_js_path", "router"]

log = logging.getLogger("dashboard.energy")

# Points per series kept on the page (the original kept 10).
HISTORY = 120


def _url_list(value: object) -> object:
    if isinstance(value, str):
        return [part.strip().rstrip("/") for part in value.split(",") if part.strip()]
    return value


class EnergyViewSettings(BaseSettings):
    """Where the energy view finds the grid, producers and consumers (server side)."""

    model_config = SettingsConfigDict(env_prefix="energy_", case_sensitive=False, extra="ignore")

    grid_url: str | None = Field(None, pattern=r"^https?://[^\s,]+$")
    producer_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    consumer_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    battery_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    refresh_seconds: float = Field(2.0, ge=0.5, le=60, description="page refresh interval")

    @field_validator("producer_urls", "consumer_urls", "battery_urls", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return _url_list(value)

    @field_validator("producer_urls", "consumer_urls", "battery_urls")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not url.startswith(("http://", "https://")) or " " in url:
                raise ValueError(f"not an http(s) URL: {url[:60]!r}")
        if len(value) > 20:
            raise ValueError("at most 20 URLs")
        return value

    @field_validator("grid_url", mode="before")
    @classmethod
    def _grid(cls, value: object) -> object:
        if isinstance(value, str):
            return value.strip().rstrip("/") or None
        return value


def plotly_js_path() -> Path:
    """plotly.min.js as the plotly wheel ships it (package_data)."""
    return Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))


async def _get(client: httpx.AsyncClient, url: str) -> Any:
    """JSON of ``url``, or None (logged) when the service is down or answers badly."""
    try:
        reply = await client.get(url)
        if reply.status_code != 200:
            return None
        return reply.json()
    except (httpx.HTTPError, ValueError) as error:
        log.debug("event=energy_fetch_failed url=%s error=%s", url, type(error).__name__)
        return None


async def _producer(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    index, channel, slices, sources = await asyncio.gather(
        _get(client, url + "/"),
        _get(client, url + "/channel"),
        _get(client, f"{url}/slices?limit={HISTORY}"),
        _get(client, f"{url}/sources?limit={HISTORY}"),
    )
    return {
        "url": url,
        "up": index is not None,
        "name": (index or {}).get("name", url),
        "balance": (index or {}).get("balance"),
        "root": (channel or {}).get("root"),
        "registered": (channel or {}).get("registered"),
        "slices": (slices or {}).get("slices", []),
        "sources": (sources or {}).get("sources", []),
    }


async def _consumer(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    index, channel, usage, payments = await asyncio.gather(
        _get(client, url + "/"),
        _get(client, url + "/channel"),
        _get(client, f"{url}/usage?limit={HISTORY}"),
        _get(client, f"{url}/payments?limit=20"),
    )
    return {
        "url": url,
        "up": index is not None,
        "name": (index or {}).get("name", url),
        "balance": (index or {}).get("balance"),
        "root": (channel or {}).get("root"),
        "returnRoot": (channel or {}).get("returnRoot"),
        "profile": (channel or {}).get("profile"),
        "usage": (usage or {}).get("usage", []),
        "paid": (payments or {}).get("paid"),
        "payments": (payments or {}).get("requests", []),
    }


async def _battery(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    index, status = await asyncio.gather(_get(client, url + "/"), _get(client, url + "/battery"))
    return {
        "url": url,
        "up": index is not None,
        "name": (index or {}).get("name", url),
        "balance": (index or {}).get("balance"),
        # stateOfCharge, bought, sold, paid, received, profit... (docs/battery.md)
        "status": status,
    }


async def _grid(client: httpx.AsyncClient, url: str | None) -> dict[str, Any] | None:
    if url is None:
        return None
    index, accounts, prices, registrations, audit = await asyncio.gather(
        _get(client, url + "/"),
        _get(client, url + "/accounts"),
        _get(client, url + "/prices"),
        _get(client, url + "/registrations"),
        _get(client, url + "/audit"),
    )
    return {
        "url": url,
        "up": index is not None,
        "balance": (index or {}).get("balance"),
        "accounts": accounts,
        "prices": prices or [],
        "registrations": registrations or [],
        # the audit trail in the seed-002 ledger (services/grid/audit.py), when it is on
        "audit": audit,
    }


async def _view(request: Request) -> EnergyViewSettings:
    view: EnergyViewSettings = request.app.state.energy_view
    return view


async def _client(request: Request) -> httpx.AsyncClient:
    client: httpx.AsyncClient = request.app.state.energy_http
    return client


#: The energy view's routes, module-level; install_energy_view puts the view's settings
#: and its HTTP client (owned by the lifespan) on app.state.
router = APIRouter(tags=["energy"])


@router.get("/energy", include_in_schema=False)
async def energy_page() -> RedirectResponse:
    return RedirectResponse("/ui/energy.html", status_code=307)


@router.get("/api/energy")
async def energy(
    settings: Annotated[EnergyViewSettings, Depends(_view)],
    client: Annotated[httpx.AsyncClient, Depends(_client)],
) -> dict[str, Any]:
    """Everything the energy view draws: sources, producers, consumers, grid."""
    producers, consumers, batteries, grid = await asyncio.gather(
        asyncio.gather(*(_producer(client, url) for url in settings.producer_urls)),
        asyncio.gather(*(_consumer(client, url) for url in settings.consumer_urls)),
        asyncio.gather(*(_battery(client, url) for url in settings.battery_urls)),
        _grid(client, settings.grid_url),
    )
    configured = bool(settings.grid_url or settings.producer_urls or settings.consumer_urls)
    return {
        "configured": configured,
        "refreshSeconds": settings.refresh_seconds,
        "producers": list(producers),
        "consumers": list(consumers),
        "batteries": list(batteries),
        "grid": grid,
    }


def install_energy_view(app: FastAPI, settings: EnergyViewSettings | None = None) -> None:
    """Add the energy view's routes and its HTTP client to the dashboard app."""
    from shared.settings import load_settings

    view = settings if settings is not None else load_settings(EnergyViewSettings)
    app.state.energy_view = view
    app.include_router(router)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        async with inner(app_) as state, httpx.AsyncClient(timeout=5) as client:
            app.state.energy_http = client
            yield state

    app.router.lifespan_context = lifespan
