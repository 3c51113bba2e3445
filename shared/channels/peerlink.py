"""Kept-alive HTTP/1.1 connections for the payment hot path (payer -> peer ``/pay``).

A payment is one small JSON POST on a connection that stays open. httpx spends more CPU
on that (about 1 ms a request: its layers, anyio, and a failed ``import sniffio`` on
every request) than signing, checking and recording the payment together
(docs/performance.md, "Payment channels"), so payments use this instead; everything else
(channel creation, the agent) keeps httpx.

Scope, on purpose: ``http://`` and ``https://`` URLs without a proxy (the node falls back
to httpx when the environment names one), a JSON body out, a ``Content-Length`` or
chunked body back. The HTTP/1.1 framing (request head, response parsing, chunked bodies,
keep-alive rules) is h11's, the sans-I/O protocol library under httpx and uvicorn; this
module only drives it over asyncio streams. A request that fails on a reused connection
before any answer arrived (the server closed it while idle) is sent once more on a fresh
connection: ``/pay`` is idempotent (the receiver answers a package it already took with
the same answer and credits nothing).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import h11

__all__ = ["LinkError", "PeerLink"]

_MAX_HEAD = 64 * 1024
_MAX_BODY = 1024 * 1024  # an answer is a callback's JSON (4 KB at most) in an envelope
_IDLE_PER_ORIGIN = 4


class LinkError(Exception):
    """No (complete) answer: connection refused or lost, timeout, malformed response."""


@dataclass(frozen=True)
class _Target:
    origin: tuple[str, str, int]  # scheme, host, port
    host_header: str
    path: str


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.loop = asyncio.get_running_loop()
        self.protocol = h11.Connection(h11.CLIENT, max_incomplete_event_size=_MAX_HEAD)

    def close(self) -> None:
        # RuntimeError: its event loop is closed; the transport closes the socket when it
        # is collected.
        with contextlib.suppress(RuntimeError):
            self.writer.close()


def uses_proxy(url: str) -> bool:
    """Whether the environment routes ``url`` through a proxy (then httpx is used)."""
    proxies = urllib.request.getproxies()
    if not proxies:
        return False
    host = urlsplit(url).hostname or ""
    return not urllib.request.proxy_bypass(host)


class PeerLink:
    """POST JSON, get ``(status, body bytes)``; a few idle connections per peer."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._targets: dict[str, _Target] = {}
        self._ssl: ssl.SSLContext | None = None

    def _target(self, url: str) -> _Target:
        target = self._targets.get(url)
        if target is None:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise LinkError(f"not an http(s) URL: {url!r}")
            port = parts.port or (443 if parts.scheme == "https" else 80)
            path = parts.path or "/"
            if parts.query:
                path += "?" + parts.query
            target = _Target((parts.scheme, parts.hostname, port), parts.netloc, path)
            self._targets[url] = target
        return target

    async def _connect(self, target: _Target) -> _Connection:
        scheme, host, port = target.origin
        context = None
        if scheme == "https":
            if self._ssl is None:
                self._ssl = ssl.create_default_context()
            context = self._ssl
        reader, writer = await asyncio.open_connection(host, port, ssl=context, limit=_MAX_HEAD)
        return _Connection(reader, writer)

    async def post_json(self, url: str, payload: Any) -> tuple[int, bytes]:
        target = self._target(url)
        body = json.dumps(
            payload, separators=(",", ":"), ensure_ascii=True, allow_nan=False
        ).encode("ascii")
        try:
            async with asyncio.timeout(self.timeout):
                idle = self._idle.get(target.origin)
                while idle and idle[-1].loop is not asyncio.get_running_loop():
                    idle.pop().close()  # made by an earlier event loop (asyncio.run again)
                if idle:
                    connection = idle.pop()
                    try:
                        return await self._exchange(target, connection, body)
                    except _Stale:
                        pass  # closed while idle: once more on a fresh connection
                connection = await self._connect(target)
                try:
                    return await self._exchange(target, connection, body)
                except _Stale:
                    raise LinkError("the peer closed the connection without answering") from None
        except TimeoutError:
            raise LinkError(f"no answer in {self.timeout} s") from None
        except OSError as error:
            raise LinkError(repr(error)) from None

    async def _exchange(
        self, target: _Target, connection: _Connection, body: bytes
    ) -> tuple[int, bytes]:
        protocol = connection.protocol
        reusable = False
        try:
            request = h11.Request(
                method="POST",
                target=target.path,
                headers=[
                    ("Host", target.host_header),
                    ("Content-Type", "application/json"),
                    ("Content-Length", str(len(body))),
                ],
            )
            connection.writer.write(
                b"".join(
                    protocol.send(event) or b""
                    for event in (request, h11.Data(data=body), h11.EndOfMessage())
                )
            )
            status, answer = await self._read_answer(connection)
            if protocol.our_state is h11.DONE and protocol.their_state is h11.DONE:
                protocol.start_next_cycle()  # keep-alive: h11 read the answer's headers
                reusable = True
            return status, answer
        except h11.ProtocolError as error:
            raise LinkError(f"malformed response: {error}") from None
        finally:
            if reusable:
                idle = self._idle.setdefault(target.origin, [])
                if len(idle) < _IDLE_PER_ORIGIN:
                    idle.append(connection)
                else:
                    connection.close()
            else:
                connection.close()

    @staticmethod
    async def _read_answer(connection: _Connection) -> tuple[int, bytes]:
        protocol = connection.protocol
        received = False  # any byte of an answer yet (else a failure means a stale connection)
        status: int | None = None
        parts: list[bytes] = []
        total = 0
        try:
            await connection.writer.drain()
        except ConnectionError:
            raise _Stale from None
        while True:
            event = protocol.next_event()
            if event is h11.NEED_DATA:
                try:
                    data = await connection.reader.read(64 * 1024)
                except ConnectionError:
                    data = b""
                if not data and not received:
                    raise _Stale
                received = received or bool(data)
                protocol.receive_data(data)  # b"" tells h11 the peer closed
            elif isinstance(event, h11.InformationalResponse):
                raise LinkError(f"unexpected interim response {event.status_code}")
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                total += len(event.data)
                if total > _MAX_BODY:
                    raise LinkError("response body too large")
                parts.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage) and status is not None:
                return status, b"".join(parts)
            else:  # ConnectionClosed (or an end without a head): the answer is incomplete
                raise LinkError("the peer closed the connection mid-answer")

    async def aclose(self) -> None:
        idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()


class _Stale(Exception):
    """The connection failed before any byte of an answer arrived."""
