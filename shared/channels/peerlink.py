"""Kept-alive HTTP/1.1 connections for the payment hot path (payer -> peer ``/pay``).

A payment is one small JSON POST on a connection that stays open. httpx spends more CPU
on that (about 1 ms a request: its layers, anyio, and a failed ``import sniffio`` on
every request) than signing, checking and recording the payment together
(docs/performance.md, "Payment channels"), so payments use this instead; everything else
(channel creation, the agent) keeps httpx.

Scope, on purpose: ``http://`` and ``https://`` URLs without a proxy (the node falls back
to httpx when the environment names one), a JSON body out, a ``Content-Length`` or
chunked body back. The answer is parsed by httptools (llhttp, Node.js's C parser; the one
uvicorn serves with): status line, headers, chunked bodies and the keep-alive rules are
its; about 0.1 ms of CPU a payment less than h11 (docs/performance.md). The request is
one fixed head (``POST``, ``Host``, ``Content-Type``, ``Content-Length``) written from a
URL checked once. This module only drives the parser over asyncio streams. A request
that fails on a reused connection before any answer arrived (the server closed it while
idle) is sent once more on a fresh connection: ``/pay`` is idempotent (the receiver
answers a package it already took with the same answer and credits nothing).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import ssl
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httptools

__all__ = ["LinkError", "PeerLink"]

_MAX_HEAD = 64 * 1024
_MAX_BODY = 1024 * 1024  # an answer is a callback's JSON (4 KB at most) in an envelope
_IDLE_PER_ORIGIN = 4
# What may appear in a request target or Host header as given: printable ASCII, no space.
_URL_SAFE = re.compile(r"[\x21-\x7e]+")


class LinkError(Exception):
    """No (complete) answer: connection refused or lost, timeout, malformed response."""


@dataclass(frozen=True)
class _Target:
    origin: tuple[str, str, int]  # scheme, host, port
    head: bytes  # the request line and headers up to "Content-Length: "


class _Answer:
    """httptools' callbacks for one connection: the answer being read."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0
        self.headers_done = False
        self.keep_alive = False
        self.status = 0
        self.complete = False
        self.extra = False  # bytes after the answer: the connection is not reused
        self.parser = httptools.HttpResponseParser(self)

    def reset(self) -> None:
        self.parts = []
        self.size = 0
        self.headers_done = self.keep_alive = self.complete = self.extra = False

    def on_message_begin(self) -> None:
        if self.complete:
            self.extra = True

    def on_headers_complete(self) -> None:
        self.headers_done = True
        # llhttp's keep-alive rules (HTTP/1.1 without "Connection: close", a framed body),
        # read here as uvicorn does: the parser forgets them once the message is complete.
        self.keep_alive = self.parser.should_keep_alive()
        self.status = self.parser.get_status_code()
        if self.status < 200:  # /pay never asks for one (no Expect: 100-continue)
            raise LinkError(f"unexpected interim response {self.status}")

    def on_body(self, body: bytes) -> None:
        self.size += len(body)
        if self.size > _MAX_BODY:
            raise LinkError("response body too large")
        self.parts.append(body)

    def on_message_complete(self) -> None:
        self.complete = True


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.loop = asyncio.get_running_loop()
        self.answer = _Answer()

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
            if not (_URL_SAFE.fullmatch(path) and _URL_SAFE.fullmatch(parts.netloc)):
                raise LinkError(f"not a plain URL (spaces, controls or non-ASCII): {url!r}")
            head = (
                f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                "Content-Type: application/json\r\nContent-Length: "
            )
            target = _Target((parts.scheme, parts.hostname, port), head.encode("ascii"))
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
        reusable = False
        try:
            connection.writer.write(b"%s%d\r\n\r\n%s" % (target.head, len(body), body))
            status, answer = await self._read_answer(connection)
            reusable = connection.answer.keep_alive and not connection.answer.extra
            return status, answer
        except httptools.HttpParserError as error:
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
        answer = connection.answer
        parser = answer.parser
        answer.reset()
        received = False  # any byte of an answer yet (else a failure means a stale connection)
        head_bytes = 0
        try:
            await connection.writer.drain()
        except ConnectionError:
            raise _Stale from None
        while not answer.complete:
            try:
                data = await connection.reader.read(64 * 1024)
            except ConnectionError:
                data = b""
            if not data:
                if not received:
                    raise _Stale
                # Only Content-Length and chunked answers: an end before the parser saw
                # the whole answer means it is incomplete.
                raise LinkError("the peer closed the connection mid-answer")
            received = True
            try:
                parser.feed_data(data)
            except httptools.HttpParserUpgrade:
                raise LinkError("unexpected protocol upgrade") from None
            except httptools.HttpParserCallbackError as error:
                if isinstance(error.__context__, LinkError):  # raised by a callback above
                    raise error.__context__ from None
                raise
            if not answer.headers_done:
                head_bytes += len(data)  # httptools buffers a header line it has not ended
                if head_bytes > _MAX_HEAD:
                    raise LinkError("response head too large")
        return answer.status, b"".join(answer.parts)

    async def aclose(self) -> None:
        idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()


class _Stale(Exception):
    """The connection failed before any byte of an answer arrived."""
