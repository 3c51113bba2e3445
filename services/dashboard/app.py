"""The dashboard's app factory: the static page, its machine list and the faucet proxy."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from services.dashboard.energy import install_energy_view
from services.dashboard.settings import DashboardSettings

__all__ = ["create_app"]

log = logging.getLogger("dashboard")
STATIC = Path(__file__).parent / "static"


class PayRequest(BaseModel):
    address: Annotated[str, Field(pattern=r"^[A-Z9]{81}([A-Z9]{9})?$")]
    value: Annotated[int, Field(gt=0)]


def create_app(settings: DashboardSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=60) as client:
            app.state.http = client
            log.info("event=started port=%d machines=%d", settings.port, len(settings.machines))
            public_url = settings.public_url or f"http://localhost:{settings.port}/"
            log.info("event=demo_ready url=%s hint=open_this_page_in_a_browser", public_url)
            yield

    app = FastAPI(
        title="machine economy dashboard",
        description="Watch and drive the seed 000 machines from a browser.",
        lifespan=lifespan,
    )

    @app.get("/", response_model=None)
    async def index(request: Request) -> dict[str, Any] | Response:
        """{"name", "status"}; a browser asking for HTML is sent to the page at /ui/."""
        if "text/html" in request.headers.get("accept", ""):
            return RedirectResponse("/ui/", status_code=307)
        return {"name": settings.name, "status": "running"}

    @app.get("/health")
    async def health() -> dict[str, Any]:
        """Liveness."""
        return {"status": "ok", "name": settings.name}

    @app.get("/api/machines")
    async def machines() -> dict[str, Any]:
        """The machines the page shows, as the browser reaches them."""
        return {
            "machines": [m.model_dump() for m in settings.machines],
            "pay_limit": settings.pay_limit,
        }

    @app.post("/api/pay")
    async def pay(body: PayRequest, request: Request) -> dict[str, Any]:
        """Pay `value` to `address` from the devnet faucet (the demo's one-click payment)."""
        if body.value > settings.pay_limit:
            raise HTTPException(422, f"value is capped at {settings.pay_limit}i per payment")
        headers = {}
        if settings.faucet_token is not None:
            headers["Authorization"] = f"Bearer {settings.faucet_token.get_secret_value()}"
        client: httpx.AsyncClient = request.app.state.http
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
            raise HTTPException(502, f"faucet refused: {reply.text[:300]}")
        log.info("event=paid address=%s value=%d", body.address[:12], body.value)
        result: dict[str, Any] = reply.json()
        return result

    install_energy_view(app)  # the seed-001 energy view at /ui/energy.html
    app.mount("/ui", StaticFiles(directory=STATIC, html=True), name="ui")
    return app
