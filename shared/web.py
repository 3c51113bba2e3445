"""The one place for what every FastAPI service needs around its routes.

- :class:`AsciiJSONResponse` and :func:`install_error_handlers`: validation errors as a
  real 422 whose body never fails to encode (a lone surrogate echoed from the input used
  to turn the 422 into a bare 500), in the shape the service's protocol wants.
- :class:`BodySizeLimitMiddleware`: a 413 with a clear message before a large body is
  read, whether it announces its length or streams it.
- :class:`HotRoutes`: a few hot endpoints served past the app's middleware stack (under
  the same body limit), everything else by the app.
- :func:`error_responses`: OpenAPI ``responses`` entries for the refusals a route answers
  (``{"detail": ...}`` bodies, including a 422 whose detail is a sentence), so every
  status is declared (schemathesis ``--checks all``).
- :func:`provide` and :func:`provided`: how a shared module-level router (``/books``,
  ``/`` and ``/health``) gets what one service gives it: the service includes it with
  ``dependencies=[provide(key, value)]`` and the routes read ``provided(request, key)``.
- :func:`serve`: uvicorn with the project's logging (every ``__main__`` calls it after
  ``shared.logs.configure_logging``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn
from fastapi import Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.ratelimit import RateLimitMiddleware, TokenBuckets

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "AsciiJSONResponse",
    "BodySizeLimitMiddleware",
    "ErrorShape",
    "HotRoutes",
    "error_responses",
    "install_error_handlers",
    "provide",
    "provided",
    "serve",
]

# Enough for any request of this project (an IRI attachToTangle of 1000 transactions is
# ~2.7 MB); services with smaller needs pass their own limit.
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024

# (status, one-line message, pydantic's error list) -> the JSON body to send.
ErrorShape = Callable[[int, str, list[dict[str, Any]]], dict[str, Any]]


class AsciiJSONResponse(JSONResponse):
    """JSON with non-ASCII escaped: a lone surrogate echoed from the input stays encodable."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def _detail_shape(status: int, message: str, errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {"detail": errors}


def describe_validation(errors: list[dict[str, Any]]) -> str:
    """``body.address: Field required; query.page: ...`` from pydantic's error list."""
    parts = []
    for item in errors[:5]:
        where = ".".join(str(part) for part in item.get("loc", ()))
        parts.append(f"{where}: {item.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI, shape: ErrorShape = _detail_shape) -> None:
    """422 for invalid requests, rendered by ``shape`` (FastAPI's ``{"detail": [...]}``
    unless the service's protocol says otherwise)."""

    async def validation_error(request: Request, exc: Exception) -> AsciiJSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = jsonable_encoder(exc.errors())
        return AsciiJSONResponse(shape(422, describe_validation(errors), errors), status_code=422)

    app.add_exception_handler(RequestValidationError, validation_error)


class BodyTooLarge(Exception):
    pass


class BodySizeLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with 413, reading no more than the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _message(self) -> bytes:
        text = f"request body larger than {self.max_bytes} bytes"
        return json.dumps({"error": text, "message": text, "success": False}).encode()

    async def _reject(self, send: Send) -> None:
        body = self._message()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    announced = int(value)
                except ValueError:
                    announced = 0
                if announced > self.max_bytes:
                    await self._reject(send)
                    return
        received = 0
        exceeded = False
        response_started = False
        replaced = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started, replaced
            if replaced:
                return  # the app's own reply to the cut-off body: already answered 413
            if message["type"] == "http.response.start":
                if exceeded and not response_started:
                    # The app caught the error and answers it its own way (FastAPI turns a
                    # failed body read into a 400): the client still gets the clear 413.
                    replaced = True
                    await self._reject(send)
                    return
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except BodyTooLarge:
            if not response_started and not replaced:
                await self._reject(send)


Endpoint = Callable[[Request], Awaitable[Response]]


class HotRoutes:
    """Serve ``routes`` (``(method, path) -> endpoint``) straight, the rest with ``app``.

    A FastAPI app puts about ten ASGI layers (error and exception middlewares, telemetry,
    body limits, the exit stack, route matching over every route) in front of each
    request: about 0.1 ms of CPU, a tenth of a payment channel's whole ``/pay``. A hot
    endpoint here gets a Starlette ``Request`` under :class:`BodySizeLimitMiddleware` (and,
    given ``buckets``, the service's per-client rate limit, ``shared.ratelimit``) and
    nothing else. It handles its own errors: an exception escaping it reaches the server
    (uvicorn answers 500 and logs it, as the app's ServerErrorMiddleware would).
    """

    def __init__(
        self,
        app: ASGIApp,
        routes: dict[tuple[str, str], Endpoint],
        max_bytes: int,
        buckets: TokenBuckets | None = None,
    ) -> None:
        self.app = app
        self.routes: dict[tuple[str, str], ASGIApp] = {}
        for key, endpoint in routes.items():
            route: ASGIApp = BodySizeLimitMiddleware(self._asgi(endpoint), max_bytes)
            if buckets is not None and buckets.enabled:
                route = RateLimitMiddleware(route, buckets)
            self.routes[key] = route

    @staticmethod
    def _asgi(endpoint: Endpoint) -> ASGIApp:
        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            response = await endpoint(Request(scope, receive))
            await response(scope, receive, send)

        return app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            route = self.routes.get((scope["method"], scope["path"]))
            if route is not None:
                await route(scope, receive, send)
                return
        await self.app(scope, receive, send)


# FastAPI's own refusals and ours: {"detail": <a sentence, or FastAPI's list of errors>}.
_DETAIL_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "detail": {"anyOf": [{"type": "string"}, {"type": "array"}, {"type": "object"}]}
    },
    "required": ["detail"],
}


def error_responses(codes: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for ``{status: description}``, each a ``{"detail"}`` body.

    Declaring 422 here replaces FastAPI's default (a list of validation errors only), so a
    route that also refuses with ``HTTPException(422, "a sentence")`` stays conformant.
    400 is what Starlette answers for a body it cannot parse.
    """
    return {
        code: {
            "description": description,
            "content": {"application/json": {"schema": _DETAIL_BODY}},
        }
        for code, description in codes.items()
    }


def serve(app: Any, *, host: str, port: int, **options: Any) -> None:
    """Serve ``app`` until SIGTERM: uvicorn's lines go through the project's logging
    (``log_config=None``), no access log (one line per request would drown the events),
    lifespan on; ``options`` are further ``uvicorn.run`` arguments (``ws``, limits)."""
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        **options,
    )


def provide(key: str, value: Any) -> Any:
    """A dependency for ``include_router(router, dependencies=[provide(key, value)])``: puts
    ``value`` on ``request.state`` for the router's routes (which read it with
    :func:`provided`). A shared router stays module-level yet serves each service its own
    source, and two inclusions of it never share one."""

    async def put(request: Request) -> None:
        setattr(request.state, key, value)

    return Depends(put)


def provided(request: Request, key: str) -> Any:
    """What :func:`provide` put on this request for ``key``."""
    return getattr(request.state, key)
