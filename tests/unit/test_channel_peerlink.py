"""The payment link (shared/channels/peerlink.py) against a real socket server.

The server is a few lines of asyncio that answer like uvicorn does (Content-Length, or
chunked) and misbehave on demand: close an idle kept-alive connection, answer nothing,
cut an answer short.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from shared.channels.peerlink import LinkError, PeerLink

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, dict[str, Any]], Awaitable[bool]]


async def _read_request(reader: asyncio.StreamReader) -> dict[str, Any] | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode().split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
    body = await reader.readexactly(int(headers["content-length"]))
    return {"line": lines[0], "headers": headers, "json": json.loads(body)}


def _answer(status: int, payload: Any, *, chunked: bool = False, close: bool = False) -> bytes:
    body = json.dumps(payload).encode()
    head = f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n"
    if close:
        head += "connection: close\r\n"
    if chunked:
        half = len(body) // 2
        parts = [body[:half], body[half:]]
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
        return (head + "transfer-encoding: chunked\r\n\r\n").encode() + chunks
    return (head + f"content-length: {len(body)}\r\n\r\n").encode() + body


class Server:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests: list[dict[str, Any]] = []
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None
        self.port = 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        try:
            while (request := await _read_request(reader)) is not None:
                self.requests.append(request)
                if not await self.handler(reader, writer, request):
                    break
        finally:
            writer.close()

    async def __aenter__(self) -> Server:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.close()  # the handlers see EOF and end
        await asyncio.sleep(0.05)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/peer/pay"


async def _echo(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: dict[str, Any]
) -> bool:
    writer.write(_answer(200, {"echo": request["json"]}, chunked=request["json"].get("chunked")))
    await writer.drain()
    return True


def test_keep_alive_content_length_and_chunked() -> None:
    async def go() -> None:
        async with Server(_echo) as server:
            link = PeerLink(timeout=5)
            for i in range(5):
                payload = {"n": i, "chunked": i % 2 == 1}
                assert await link.post_json(server.url, payload) == (
                    200,
                    json.dumps({"echo": payload}).encode(),
                )
            await link.aclose()
        assert server.connections == 1  # one kept-alive connection for all five
        first = server.requests[0]
        assert first["line"] == "POST /peer/pay HTTP/1.1"
        assert first["headers"]["host"] == f"127.0.0.1:{server.port}"
        assert first["headers"]["content-type"] == "application/json"

    asyncio.run(go())


def test_idle_connection_closed_by_the_server_is_replaced() -> None:
    async def close_after_answer(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: dict[str, Any]
    ) -> bool:
        writer.write(_answer(409, {"accepted": False, "error": "stale"}))
        await writer.drain()
        return False  # closes without saying so: the client finds out on the next request

    async def go() -> None:
        async with Server(close_after_answer) as server:
            link = PeerLink(timeout=5)
            for _ in range(3):
                status, body = await link.post_json(server.url, {"x": 1})
                assert status == 409 and json.loads(body)["error"] == "stale"
                await asyncio.sleep(0.05)  # let the close arrive
            await link.aclose()
        assert server.connections == 3 and len(server.requests) == 3

    asyncio.run(go())


def test_connection_close_answer_not_reused() -> None:
    async def answer_and_close(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: dict[str, Any]
    ) -> bool:
        writer.write(_answer(200, {"ok": True}, close=True))
        await writer.drain()
        return False

    async def go() -> None:
        async with Server(answer_and_close) as server:
            link = PeerLink(timeout=5)
            for _ in range(2):
                assert (await link.post_json(server.url, {}))[0] == 200
            await link.aclose()
        assert server.connections == 2 and len(server.requests) == 2

    asyncio.run(go())


_WHY = {
    "silent": "no answer in",
    "cut": "mid-answer",
    "garbage": "malformed",
    "endless-head": "head too large",
    "interim": "interim response 100",
    "huge-body": "body too large",
}


@pytest.mark.parametrize("behaviour", list(_WHY))
def test_no_complete_answer_is_a_link_error(behaviour: str) -> None:
    async def misbehave(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: dict[str, Any]
    ) -> bool:
        if behaviour == "silent":
            await asyncio.sleep(5)
        elif behaviour == "cut":
            writer.write(_answer(200, {"long": "x" * 100})[:-20])
            await writer.drain()
        elif behaviour == "endless-head":  # one header line that never ends
            writer.write(b"HTTP/1.1 200 OK\r\nx-filler: " + b"a" * (70 * 1024))
            await writer.drain()
            await asyncio.sleep(5)
        elif behaviour == "interim":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n" + _answer(200, {"ok": True}))
            await writer.drain()
        elif behaviour == "huge-body":
            writer.write(_answer(200, {"long": "x" * (1024 * 1024 + 1)}))
            await writer.drain()
        else:
            writer.write(b"SSH-2.0-OpenSSH\r\n\r\n")
            await writer.drain()
        return False

    async def go() -> None:
        async with Server(misbehave) as server:
            link = PeerLink(timeout=0.5)
            with pytest.raises(LinkError, match=_WHY[behaviour]):
                await link.post_json(server.url, {"x": 1})
            await link.aclose()
        assert len(server.requests) == 1  # a fresh connection that fails is not retried

    asyncio.run(go())


def test_nobody_listening_is_a_link_error() -> None:
    async def go() -> None:
        async with Server(_echo) as server:
            url = server.url
        link = PeerLink(timeout=2)
        with pytest.raises(LinkError):
            await link.post_json(url, {})
        with pytest.raises(LinkError, match="not an http"):
            await link.post_json("ftp://example/pay", {})
        with pytest.raises(LinkError, match="not a plain URL"):  # never in the request head
            await link.post_json("http://127.0.0.1:9/a b", {})

    asyncio.run(go())


def test_one_link_across_event_loops() -> None:
    """A caller running asyncio.run per payment: connections of a closed loop are dropped."""

    async def serve_forever(ready: asyncio.Future[int], stop: asyncio.Event) -> None:
        async with Server(_echo) as server:
            ready.set_result(server.port)
            await stop.wait()

    import threading

    loop = asyncio.new_event_loop()
    ready: asyncio.Future[int] = loop.create_future()
    stop = asyncio.Event()
    thread = threading.Thread(
        target=loop.run_until_complete, args=(serve_forever(ready, stop),), daemon=True
    )
    thread.start()
    while not ready.done():
        threading.Event().wait(0.01)
    url = f"http://127.0.0.1:{ready.result()}/pay"
    link = PeerLink(timeout=5)
    try:
        for i in range(3):
            status, _ = asyncio.run(link.post_json(url, {"n": i}))
            assert status == 200
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(5)
