"""Kept-alive HTTP/1.1 connections for the payment hot path (payer -> peer ``/pay``).

A payment is one small JSON POST on a connection that stays open. httpx spends more CPU
on that (about 1 ms a request: its layers, anyio, and a failed ``import sniffio`` on
every request) than signing, checking and recording the payment together
(docs/performance.md, "Payment channels"), so payments use this instead; everything else
(channel creation, the agent) keeps httpx.

Scope, on purpose: ``http://`` and ``https://`` URLs without a proxy (the node falls back
to httpx when the environment names one), a JSON body out, a ``Content-Length`` or
chunked body back. A request that fails on a reused connection before any answer arrived
(the server closed it while idle) is sent once more on a fresh connection: ``/pay`` is
idempotent (the receiver answers a package it already took with the same answer and
credits nothing).
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
        head = (
            f"POST {target.path} HTTP/1.1\r\nHost: {target.host_header}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode("ascii")
        try:
            async with asyncio.timeout(self.timeout):
                idle = self._idle.get(target.origin)
                while idle and idle[-1].loop is not asyncio.get_running_loop():
                    idle.pop().close()  # made by an earlier event loop (asyncio.run again)
                if idle:
                    connection = idle.pop()
                    try:
                        return await self._exchange(target, connection, head + body)
                    except _Stale:
                        pass  # closed while idle: once more on a fresh connection
                connection = await self._connect(target)
                try:
                    return await self._exchange(target, connection, head + body)
                except _Stale:
                    raise LinkError("the peer closed the connection without answering") from None
        except TimeoutError:
            raise LinkError(f"no answer in {self.timeout} s") from None
        except OSError as error:
            raise LinkError(repr(error)) from None

    async def _exchange(
        self, target: _Target, connection: _Connection, request: bytes
    ) -> tuple[int, bytes]:
        reusable = False
        try:
            connection.writer.write(request)
            try:
                await connection.writer.drain()
                head = await connection.reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError) as error:
                if isinstance(error, asyncio.IncompleteReadError) and error.partial:
                    raise LinkError("the peer closed the connection mid-answer") from None
                raise _Stale from None
            except asyncio.LimitOverrunError:
                raise LinkError("response head too large") from None
            status, length, chunked, keep_alive = _parse_head(head)
            try:
                if chunked:
                    body = await _read_chunked(connection.reader)
                elif length is not None:
                    if length > _MAX_BODY:
                        raise LinkError(f"response body of {length} bytes")
                    body = await connection.reader.readexactly(length)
                else:
                    body = await connection.reader.read(_MAX_BODY + 1)
                    keep_alive = False
            except asyncio.IncompleteReadError:
                raise LinkError("the peer closed the connection mid-answer") from None
            except asyncio.LimitOverrunError:
                raise LinkError("malformed chunked response") from None
            if len(body) > _MAX_BODY:
                raise LinkError("response body too large")
            reusable = keep_alive
            return status, body
        finally:
            if reusable:
                idle = self._idle.setdefault(target.origin, [])
                if len(idle) < _IDLE_PER_ORIGIN:
                    idle.append(connection)
                else:
                    connection.close()
            else:
                connection.close()

    async def aclose(self) -> None:
        idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()


class _Stale(Exception):
    """The connection failed before any byte of an answer arrived."""


def _parse_head(head: bytes) -> tuple[int, int | None, bool, bool]:
    """(status, Content-Length, chunked, keep-alive) of a response head."""
    lines = head.decode("latin-1").split("\r\n")
    status_line = lines[0].split(" ", 2)
    if len(status_line) < 2 or not status_line[0].startswith("HTTP/1."):
        raise LinkError(f"not an HTTP/1.x response: {lines[0][:80]!r}")
    try:
        status = int(status_line[1])
    except ValueError:
        raise LinkError(f"bad status line: {lines[0][:80]!r}") from None
    length: int | None = None
    chunked = False
    keep_alive = status_line[0] == "HTTP/1.1"
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        name = name.strip().lower()
        value = value.strip()
        if name == "content-length":
            if not value.isdigit():
                raise LinkError(f"bad Content-Length {value[:20]!r}")
            length = int(value)
        elif name == "transfer-encoding":
            chunked = value.lower().endswith("chunked")
        elif name == "connection":
            tokens = {token.strip().lower() for token in value.split(",")}
            if "close" in tokens:
                keep_alive = False
            elif "keep-alive" in tokens:
                keep_alive = True
    if 100 <= status < 200:
        raise LinkError(f"unexpected interim response {status}")
    return status, length, chunked, keep_alive


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        line = await reader.readuntil(b"\r\n")
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise LinkError("bad chunk size") from None
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass  # trailers
            return b"".join(parts)
        total += size
        if total > _MAX_BODY:
            raise LinkError("response body too large")
        parts.append(await reader.readexactly(size))
        if await reader.readexactly(2) != b"\r\n":
            raise LinkError("bad chunk end")
