"""The dashboard's energy view: settings, plotly served from the wheel, /api/energy shape."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from services.dashboard.app import create_app
from services.dashboard.energy import EnergyViewSettings, install_energy_view, plotly_js_path
from services.dashboard.settings import DashboardSettings


def test_urls_are_split_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENERGY_CONSUMER_URLS", "http://a:1, http://b:2/ ,")
    monkeypatch.setenv("ENERGY_GRID_URL", "http://grid:4000/")
    settings = EnergyViewSettings()
    assert settings.consumer_urls == ["http://a:1", "http://b:2"]
    assert settings.grid_url == "http://grid:4000"
    monkeypatch.setenv("ENERGY_PRODUCER_URLS", "producer:3010")
    with pytest.raises(ValidationError, match="producer_urls"):
        EnergyViewSettings()


def test_plotly_comes_from_the_wheel() -> None:
    path = plotly_js_path()
    assert path.is_file() and path.stat().st_size > 1_000_000
    app = create_app(DashboardSettings.model_validate({"faucet_url": "http://127.0.0.1:9"}))
    with TestClient(app) as client:
        reply = client.get("/ui/vendor/plotly.min.js")
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("text/javascript")
        assert b"plotly" in reply.content[:2000].lower()
        redirect = client.get("/energy", follow_redirects=False)
        assert redirect.status_code == 307 and redirect.headers["location"] == "/ui/energy.html"


def test_api_energy_reports_unreachable_services() -> None:
    app = FastAPI()
    view = EnergyViewSettings.model_validate(
        {"grid_url": "http://127.0.0.1:9", "producer_urls": ["http://127.0.0.1:9"]}
    )
    install_energy_view(app, view)
    with TestClient(app) as client:
        body = client.get("/api/energy").json()
    assert body["configured"] is True
    assert body["producers"][0]["up"] is False and body["producers"][0]["slices"] == []
    assert body["grid"]["up"] is False and body["consumers"] == []


def test_api_energy_passes_on_the_grids_audit_trail() -> None:
    audit = {
        "enabled": True,
        "ledger": "grid-settlements",
        "ledgerUrl": "http://localhost:8100/ledgers/1/transactions/",
        "pending": 0,
        "sent": 1,
        "recent": [{"kind": "slice", "ref": 3000, "seqNo": 1, "proofUrl": "http://l/p"}],
    }

    def grid(request: httpx.Request) -> httpx.Response:
        answers = {"/": {"balance": 5}, "/audit": audit}
        return httpx.Response(200, json=answers.get(request.url.path, []))

    app = FastAPI()
    install_energy_view(app, EnergyViewSettings.model_validate({"grid_url": "http://grid:4000"}))
    with TestClient(app) as client:
        app.state.energy_http = httpx.AsyncClient(transport=httpx.MockTransport(grid))
        body = client.get("/api/energy").json()
    assert body["grid"]["up"] is True and body["grid"]["audit"] == audit
