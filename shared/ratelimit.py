"""Per-client rate limits: one token bucket per client address, for HTTP and Socket.IO.

- :class:`RateLimitSettings`: ``RATE_LIMIT_PER_SECOND``, ``RATE_LIMIT_BURST`` and
  ``RATE_LIMIT_CLIENTS``; every service's settings class inherits them (a service may
  change the defaults).
- :class:`TokenBuckets`: ``take(key)`` answers 0 when a request may pass (a token taken),
  else the seconds until the next token. Memory is bounded: a client whose bucket has
  refilled is forgotten (nothing is lost: a new bucket is full too), and past
  ``max_clients`` the least recently seen client is dropped.
- :class:`RateLimitMiddleware` and :func:`limit_writes`: writes (POST, PUT, PATCH,
  DELETE) over the limit answer 429 with ``Retry-After`` before the body is read, and the
  429 is declared in the OpenAPI of every limited route.

The key is the peer's address as the ASGI server saw it (``scope["client"]``):
``X-Forwarded-For`` is not trusted, anyone could write it. The buckets are used from the
event loop only (no lock).
"""

from __future__ import annotations

import json
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:  # settings classes import this module: it stays light (no web stack)
    from fastapi import FastAPI
    from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = [
    "RATE_LIMITED_RESPONSE",
    "WRITE_METHODS",
    "RateLimitMiddleware",
    "RateLimitSettings",
    "TokenBuckets",
    "client_key",
    "declare_rate_limit",
    "limit_writes",
    "retry_after",
]

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class RateLimitSettings(BaseSettings):
    """The per-client limit every service takes (docs: each service's settings table)."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    rate_limit_per_second: float = Field(
        50.0, ge=0, le=1e6, description="writes per second one client address may send (0: off)"
    )
    rate_limit_burst: int = Field(
        100, ge=1, le=1_000_000, description="writes one client address may send at once"
    )
    rate_limit_clients: int = Field(
        10_000, ge=1, le=10_000_000, description="client addresses remembered at once"
    )


class TokenBuckets:
    """A token bucket per key: ``rate`` tokens a second, at most ``burst`` saved up."""

    def __init__(
        self,
        rate: float,
        burst: int,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.max_clients = max_clients
        self.clock = clock
        # key -> [tokens, time of the last update]; oldest update first.
        self._buckets: OrderedDict[str, list[float]] = OrderedDict()
        # A bucket left alone this long is full again: forgetting it changes nothing.
        self._refill = self.burst / rate if rate > 0 else 0.0

    @classmethod
    def from_settings(cls, settings: RateLimitSettings) -> TokenBuckets:
        return cls(
            settings.rate_limit_per_second, settings.rate_limit_burst, settings.rate_limit_clients
        )

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str) -> float:
        """Take a token for ``key``: 0.0 when there was one, else seconds until there is."""
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        buckets = self._buckets
        bucket = buckets.get(key)
        if bucket is None:
            self._evict(now)
            buckets[key] = [self.burst - 1.0, now]
            return 0.0
        buckets.move_to_end(key)
        tokens = bucket[0] + (now - bucket[1]) * self.rate
        if tokens > self.burst:
            tokens = self.burst
        bucket[1] = now
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
            return 0.0
        bucket[0] = tokens
        return (1.0 - tokens) / self.rate

    def _evict(self, now: float) -> None:
        buckets = self._buckets
        while buckets:
            key, (_, stamp) = next(iter(buckets.items()))
            if now - stamp >= self._refill or len(buckets) >= self.max_clients:
                del buckets[key]
            else:
                break


def retry_after(wait: float) -> int:
    """Whole seconds for ``Retry-After`` (at least 1)."""
    return max(1, math.ceil(wait))


def client_key(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else ""


def _refusal(wait: float) -> tuple[int, bytes]:
    seconds = retry_after(wait)
    text = f"too many requests from this address; retry in {seconds} s"
    return seconds, json.dumps({"error": text, "message": text, "success": False}).encode()


class _Exempt:
    """``"/x"`` matches that path, ``"/x/*"`` every path that starts with ``"/x/"``."""

    def __init__(self, paths: Iterable[str]) -> None:
        paths = tuple(paths)
        self.exact = frozenset(p for p in paths if not p.endswith("*"))
        self.prefixes = tuple(p[:-1] for p in paths if p.endswith("*"))

    def __call__(self, path: str) -> bool:
        return path in self.exact or (bool(self.prefixes) and path.startswith(self.prefixes))


class RateLimitMiddleware:
    """429 with ``Retry-After`` for writes over the client's limit, before the body is read.

    ``exempt`` paths are never limited (``"/x"`` that path, ``"/x/*"`` every path under
    it); a service uses it for routes with limits of their own (its docs say which). With
    ``websockets``, opening a websocket counts as a write too (a 429 to the handshake).
    """

    def __init__(
        self,
        app: ASGIApp,
        buckets: TokenBuckets,
        methods: Iterable[str] = WRITE_METHODS,
        exempt: Iterable[str] = (),
        websockets: bool = False,
    ) -> None:
        self.app = app
        self.buckets = buckets
        self.websockets = websockets
        self.methods = frozenset(methods)
        self.exempt = _Exempt(exempt)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if (
            (kind == "http" and scope["method"] in self.methods)
            or (kind == "websocket" and self.websockets)
        ) and not self.exempt(scope["path"]):
            wait = self.buckets.take(client_key(scope))
            if wait:
                await self._refuse(scope, send, wait)
                return
        await self.app(scope, receive, send)

    @staticmethod
    async def _refuse(scope: Scope, send: Send, wait: float) -> None:
        seconds, body = _refusal(wait)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(seconds).encode()),
        ]
        if scope["type"] == "http":
            prefix = "http"
        elif "websocket.http.response" in scope.get("extensions", {}):
            prefix = "websocket.http"  # the handshake answered 429 instead of 101
        else:
            await send({"type": "websocket.close", "code": 1013})  # try again later
            return
        await send({"type": f"{prefix}.response.start", "status": 429, "headers": headers})
        await send({"type": f"{prefix}.response.body", "body": body})


RATE_LIMITED_RESPONSE: dict[str, Any] = {
    "description": "Too many requests from this client address (RATE_LIMIT_PER_SECOND, "
    "RATE_LIMIT_BURST); retry after `Retry-After` seconds",
    "headers": {
        "Retry-After": {
            "description": "seconds until the next request is accepted",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["error", "message", "success"],
                "properties": {
                    "error": {"type": "string"},
                    "message": {"type": "string"},
                    "success": {"type": "boolean"},
                },
            }
        }
    },
}


def declare_rate_limit(
    app: FastAPI, methods: Iterable[str] = WRITE_METHODS, exempt: Iterable[str] = ()
) -> None:
    """Add the 429 to the OpenAPI of every operation the middleware limits."""
    limited = {method.lower() for method in methods}
    skip = _Exempt(exempt)
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        for path, operations in schema.get("paths", {}).items():
            if skip(path):
                continue
            for method, operation in operations.items():
                if method in limited and isinstance(operation, dict):
                    operation.setdefault("responses", {}).setdefault("429", RATE_LIMITED_RESPONSE)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def limit_writes(
    app: FastAPI,
    settings: RateLimitSettings,
    *,
    exempt: Iterable[str] = (),
    websockets: bool = False,
    buckets: TokenBuckets | None = None,
) -> TokenBuckets:
    """Limit ``app``'s writes per client address (outermost middleware, so a refused
    request costs no more than the limiter) and declare the 429; returns the buckets for
    other paths of the service to share (Socket.IO events, hot routes)."""
    buckets = buckets or TokenBuckets.from_settings(settings)
    exempt = tuple(exempt)
    if buckets.enabled:
        app.add_middleware(
            RateLimitMiddleware, buckets=buckets, exempt=exempt, websockets=websockets
        )
        declare_rate_limit(app, exempt=exempt)
    return buckets
