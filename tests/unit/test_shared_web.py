"""shared/web.py: invalid requests are a real 422 even when they echo a lone surrogate, and
bodies over the limit get a clear 413 whether they announce their length or stream it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic import BaseModel

from shared.web import (
    AsciiJSONResponse,
    BodySizeLimitMiddleware,
    HotRoutes,
    install_error_handlers,
)

LIMIT = 1000


class Order(BaseModel):
    product: str
    count: int


def _app(*, handlers: bool = True, shape: Any = None, limit: int | None = LIMIT) -> FastAPI:
    app = FastAPI()
    if handlers:
        if shape is None:
            install_error_handlers(app)
        else:
            install_error_handlers(app, shape)
    if limit is not None:
        app.add_middleware(BodySizeLimitMiddleware, max_bytes=limit)
    app.state.calls = 0

    @app.post("/orders")
    async def create(order: Order) -> dict[str, Any]:
        app.state.calls += 1
        return {"product": order.product, "count": order.count}

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        data = await request.body()
        app.state.calls += 1  # counted once the body was read in full
        return {"length": len(data)}

    return app


def _client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


# A lone surrogate written as a JSON escape: valid JSON, but not encodable as UTF-8.
SURROGATE_BODY = b'{"product": "tea", "count": "\\ud800"}'


async def test_lone_surrogate_gives_422_not_500() -> None:
    async with _client(_app()) as client:
        response = await client.post(
            "/orders", content=SURROGATE_BODY, headers={"content-type": "application/json"}
        )
    assert response.status_code == 422
    body = response.json()
    assert body["detail"][0]["loc"] == ["body", "count"]
    assert body["detail"][0]["input"] == "\ud800"
    assert response.content.isascii()


async def test_without_the_handler_the_same_request_is_a_500() -> None:
    # Proves the test above tests something: FastAPI's own 422 cannot encode the echo.
    async with _client(_app(handlers=False)) as client:
        response = await client.post(
            "/orders", content=SURROGATE_BODY, headers={"content-type": "application/json"}
        )
    assert response.status_code == 500


async def test_default_shape_is_fastapis_and_a_service_may_choose_its_own() -> None:
    async with _client(_app()) as client:
        response = await client.post("/orders", json={"product": "tea"})
    assert response.status_code == 422
    assert list(response.json()) == ["detail"]
    assert response.json()["detail"][0]["type"] == "missing"

    def iri_shape(status: int, message: str, errors: list[dict[str, Any]]) -> dict[str, Any]:
        return {"error": message, "status": status}

    async with _client(_app(shape=iri_shape)) as client:
        response = await client.post("/orders", json={"product": "tea", "count": "many"})
    assert response.status_code == 422
    assert response.json() == {
        "error": "body.count: Input should be a valid integer, unable to parse string as an "
        "integer",
        "status": 422,
    }


def test_ascii_json_response_escapes_everything_non_ascii() -> None:
    body = AsciiJSONResponse({"name": "r\u00f6bot \ud800"}).body
    assert body == b'{"name":"r\\u00f6bot \\ud800"}'
    assert json.loads(bytes(body)) == {"name": "r\u00f6bot \ud800"}


async def test_normal_bodies_pass() -> None:
    app = _app()
    async with _client(app) as client:
        response = await client.post("/orders", json={"product": "tea", "count": 2})
        assert response.status_code == 200
        assert response.json() == {"product": "tea", "count": 2}
        exact = b"x" * LIMIT  # the limit itself is allowed
        response = await client.post("/raw", content=exact)
        assert response.status_code == 200 and response.json() == {"length": LIMIT}
        response = await client.post("/raw", content=_chunks(exact, 100))
        assert response.status_code == 200 and response.json() == {"length": LIMIT}
    assert app.state.calls == 3


async def test_announced_large_body_is_refused_before_the_route_runs() -> None:
    app = _app()
    async with _client(app) as client:
        response = await client.post("/raw", content=b"x" * (LIMIT + 1))
    assert response.status_code == 413
    assert response.json()["error"] == f"request body larger than {LIMIT} bytes"
    assert response.headers["connection"] == "close"
    assert app.state.calls == 0


async def _chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize("path", ["/raw", "/orders"])
async def test_streamed_large_body_is_refused(path: str) -> None:
    app = _app()
    payload = json.dumps({"product": "x" * (3 * LIMIT), "count": 1}).encode()
    async with _client(app) as client:
        response = await client.post(
            path, content=_chunks(payload, 256), headers={"content-type": "application/json"}
        )
    assert "content-length" not in response.request.headers  # chunked: nothing announced
    # /orders: FastAPI catches the failed read and would answer 400; the client still
    # gets the clear 413.
    assert response.status_code == 413
    assert response.json()["message"] == f"request body larger than {LIMIT} bytes"
    assert app.state.calls == 0


async def test_a_lying_content_length_does_not_get_past_the_limit() -> None:
    app = _app()
    async with _client(app) as client:
        response = await client.post(
            "/raw", content=_chunks(b"y" * (2 * LIMIT), 300), headers={"content-length": "10"}
        )
    assert response.status_code == 413
    assert app.state.calls == 0


async def test_hot_routes_serve_their_endpoint_under_the_limit_and_pass_the_rest() -> None:
    app = _app()
    seen: list[bytes] = []

    async def hot(request: Request) -> AsciiJSONResponse:
        seen.append(await request.body())
        return AsciiJSONResponse({"hot": True}, status_code=201)

    served = HotRoutes(app, {("POST", "/raw"): hot}, max_bytes=LIMIT)
    transport = httpx.ASGITransport(app=served, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        answer = await client.post("/raw", content=b"abc")
        assert (answer.status_code, answer.json(), seen) == (201, {"hot": True}, [b"abc"])
        assert app.state.calls == 0  # the app's own /raw never ran
        too_big = await client.post("/raw", content=b"x" * (LIMIT + 1))
        assert too_big.status_code == 413 and len(seen) == 1
        assert (await client.get("/raw")).status_code == 405  # another method: the app's
        order = await client.post("/orders", json={"product": "tea", "count": 2})
        assert order.json() == {"product": "tea", "count": 2} and app.state.calls == 1
