"""shared/health.py: a hung dependency shows in /health within interval + timeout, and
clears on its own; the router keeps the service contract and declares its 503."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from fastapi import FastAPI

from shared.health import Health, service_router


class Dependency:
    """A check that answers, hangs or fails as told (the real probes are async too)."""

    def __init__(self) -> None:
        self.mode = "ok"

    async def check(self) -> str | None:
        if self.mode == "hang":
            await asyncio.sleep(3600)
        if self.mode == "fail":
            raise ConnectionRefusedError("refused")
        return None


async def _status(client: httpx.AsyncClient) -> tuple[int, dict[str, Any]]:
    reply = await client.get("/health")
    return reply.status_code, reply.json()


def test_a_hung_dependency_turns_health_to_503_and_back() -> None:
    async def scenario() -> None:
        dependency = Dependency()
        parts: dict[str, str] = {}
        health = Health()
        health.probe("devnet", dependency.check, interval=0.1, timeout=0.2)
        health.watch(lambda: dict(parts))
        app = FastAPI()
        app.include_router(service_router("robot", health, index=lambda: {"balance": 5}))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await health.start()
            try:
                status, body = await _status(client)
                assert status == 200 and body["status"] == "ok" and body["down"] == {}
                assert body["name"] == "robot"
                assert body["dependencies"]["devnet"]["ok"] is True
                index = (await client.get("/")).json()
                assert index == {"name": "robot", "status": "ok", "balance": 5}

                dependency.mode = "hang"
                started = time.monotonic()
                while (await _status(client))[0] == 200:
                    assert time.monotonic() - started < 2.0, "a hung dependency stayed 200"
                    await asyncio.sleep(0.02)
                status, body = await _status(client)
                assert status == 503 and body["status"] == "unhealthy"
                assert body["down"] == {"devnet": "no answer within 0.2s"}
                assert (await client.get("/")).json()["status"] == "degraded"

                dependency.mode = "ok"
                started = time.monotonic()
                while (await _status(client))[0] != 200:
                    assert time.monotonic() - started < 2.0, "did not recover"
                    await asyncio.sleep(0.02)

                dependency.mode = "fail"
                await asyncio.sleep(0.5)
                status, body = await _status(client)
                assert status == 503
                assert body["down"]["devnet"] == "ConnectionRefusedError: refused"

                dependency.mode = "ok"
                parts["order-processor"] = "RuntimeError: boom"
                await asyncio.sleep(0.5)
                status, body = await _status(client)
                assert status == 503 and body["down"] == {"order-processor": "RuntimeError: boom"}
            finally:
                await health.stop()

    asyncio.run(scenario())


def test_probes_not_started_are_not_reported_and_503_is_documented() -> None:
    health = Health()
    health.probe("devnet", Dependency().check)
    app = FastAPI()
    app.include_router(service_router("grid", health, status=lambda: "ok"))

    async def scenario() -> tuple[int, dict[str, Any]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await _status(client)

    assert asyncio.run(scenario()) == (
        200,
        {"status": "ok", "name": "grid", "down": {}, "dependencies": {}},
    )
    responses = app.openapi()["paths"]["/health"]["get"]["responses"]
    assert set(responses) == {"200", "503"}
