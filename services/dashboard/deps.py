"""What the dashboard's routers read from ``app.state`` (put there by the app's lifespan)."""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import Depends, Request

from services.dashboard.settings import DashboardSettings

__all__ = ["HttpDep", "SettingsDep"]


def _settings(request: Request) -> DashboardSettings:
    settings: DashboardSettings = request.app.state.settings
    return settings


def _http(request: Request) -> httpx.AsyncClient:
    client: httpx.AsyncClient = request.app.state.http
    return client


SettingsDep = Annotated[DashboardSettings, Depends(_settings)]
#: The dashboard's HTTP client to the devnet, the machines and the lock.
HttpDep = Annotated[httpx.AsyncClient, Depends(_http)]
