"""shared/ratelimit.py: token buckets per client address with bounded memory, a 429 with
Retry-After before the body is read, the 429 in the OpenAPI of every limited route, and the
same limit on a hot route."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from starlette.responses import JSONResponse, Response

from shared.ratelimit import (
    RateLimitMiddleware,
    RateLimitSettings,
    TokenBuckets,
    limit_writes,
    retry_after,
)
from shared.web import HotRoutes


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_gives_its_burst_then_one_token_per_interval() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=2.0, burst=3, clock=clock)
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(0.5)  # the next token in half a second
    assert buckets.take("b") == 0.0  # another address has its own bucket
    clock.now += 0.5
    assert buckets.take("a") == 0.0
    assert buckets.take("a") > 0
    clock.now += 100  # never more than the burst saved up
    assert [buckets.take("a") for _ in range(4)][-1] > 0


def test_zero_rate_is_off() -> None:
    buckets = TokenBuckets(rate=0, burst=1)
    assert all(buckets.take("a") == 0.0 for _ in range(1000)) and not buckets.enabled
    assert len(buckets) == 0


def test_memory_is_bounded_and_idle_clients_are_forgotten() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=10.0, burst=10, max_clients=100, clock=clock)
    for n in range(1000):
        buckets.take(f"10.0.{n // 256}.{n % 256}")
    assert len(buckets) == 100  # the least recently seen gave way
    clock.now += 1.0  # every bucket has refilled: forgetting them changes nothing
    buckets.take("fresh")
    assert len(buckets) == 1


def test_forgetting_a_client_never_forgives_a_flooder() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=1.0, burst=2, max_clients=1000, clock=clock)
    for _ in range(2):
        buckets.take("flooder")
    for n in range(50):  # other clients come and go within the refill time
        clock.now += 0.01
        buckets.take(f"other{n}")
    assert buckets.take("flooder") > 0


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    assert retry_after(0.01) == 1 and retry_after(1.0) == 1 and retry_after(1.2) == 2


def _app(settings: RateLimitSettings, **options: Any) -> FastAPI:
    app = FastAPI()
    app.state.reads = 0

    @app.post("/items")
    async def create(request: Request) -> dict[str, int]:
        body = await request.body()
        app.state.reads += 1
        return {"length": len(body)}

    @app.get("/items")
    async def items() -> list[int]:
        return []

    @app.post("/peer/ping")
    async def ping() -> dict[str, bool]:
        return {"pong": True}

    limit_writes(app, settings, **options)
    return app


def _client(app: Any, host: str = "10.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(host, 5000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


SETTINGS = RateLimitSettings(rate_limit_per_second=1, rate_limit_burst=2)


async def test_writes_over_the_limit_get_429_with_retry_after_before_the_body_is_read() -> None:
    app = _app(SETTINGS)
    async with _client(app) as client:
        answers = [await client.post("/items", content=b"x" * 100) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        refused = answers[2]
        assert refused.headers["retry-after"] == "1"
        assert refused.json()["success"] is False and "retry" in refused.json()["message"]
        assert app.state.reads == 2
        # Reads are not limited.
        assert [(await client.get("/items")).status_code for _ in range(10)] == [200] * 10
    async with _client(app, host="10.0.0.2") as other:
        assert (await other.post("/items", content=b"x")).status_code == 200


async def test_exempt_paths_and_the_setting_that_turns_it_off() -> None:
    app = _app(SETTINGS, exempt=("/peer/*",))
    async with _client(app) as client:
        assert [(await client.post("/peer/ping")).status_code for _ in range(10)] == [200] * 10
    off = _app(RateLimitSettings(rate_limit_per_second=0))
    async with _client(off) as client:
        assert [(await client.post("/items")).status_code for _ in range(10)] == [200] * 10
    assert "429" not in off.openapi()["paths"]["/items"]["post"]["responses"]


def test_the_429_is_in_the_openapi_of_every_limited_route() -> None:
    schema = _app(SETTINGS, exempt=("/peer/*",)).openapi()
    post = schema["paths"]["/items"]["post"]["responses"]
    assert "Retry-After" in post["429"]["headers"]
    assert "429" not in schema["paths"]["/items"]["get"]["responses"]
    assert "429" not in schema["paths"]["/peer/ping"]["post"]["responses"]


async def test_a_websocket_over_the_limit_is_refused_at_the_handshake() -> None:
    sent: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "websocket.accept"})

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    limited = RateLimitMiddleware(app, TokenBuckets(1, 1), websockets=True)
    scope = {"type": "websocket", "path": "/ws", "client": ("10.0.0.1", 1), "extensions": {}}
    await limited(scope, receive, send)
    await limited(scope, receive, send)
    assert sent[0]["type"] == "websocket.accept"
    assert sent[1] == {"type": "websocket.close", "code": 1013}
    scope["extensions"] = {"websocket.http.response": {}}
    await limited(scope, receive, send)
    assert sent[2]["type"] == "websocket.http.response.start" and sent[2]["status"] == 429


async def test_a_hot_route_shares_the_limit() -> None:
    app = _app(SETTINGS)
    buckets = TokenBuckets(1, 2)

    async def pay(request: Request) -> Response:
        return JSONResponse({"paid": True})

    served = HotRoutes(app, {("POST", "/pay"): pay}, 1000, buckets=buckets)
    async with _client(served) as client:
        codes = [(await client.post("/pay", content=b"{}")).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
