"""Flooding clients, run in a process of their own (``multiprocessing`` spawn) so their
work never shares a GIL with the client that measures; each binds its sockets to one
loopback address and reports what the server answered."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import Counter
from multiprocessing.queues import Queue
from typing import Any

import httpx
from websockets.sync.client import connect


def flood_http(
    url: str, method: str, path: str, body: Any, source: str, seconds: float, report: Queue
) -> None:
    """``method path`` with ``body`` from ``source`` on 64 connections for ``seconds``;
    reports the status counts and the Retry-After values of the 429s."""

    async def run() -> dict[str, Any]:
        statuses: Counter[int] = Counter()
        retry_after: Counter[str] = Counter()
        transport = httpx.AsyncHTTPTransport(local_address=source)
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        deadline = time.monotonic() + seconds
        async with httpx.AsyncClient(
            base_url=url, transport=transport, limits=limits, timeout=30
        ) as client:

            async def worker(n: int) -> None:
                i = 0
                while time.monotonic() < deadline:
                    i += 1
                    try:
                        reply = await client.request(method, path.format(n=n, i=i), json=body)
                    except httpx.HTTPError:
                        statuses[0] += 1
                        continue
                    statuses[reply.status_code] += 1
                    if reply.status_code == 429:
                        retry_after[reply.headers.get("retry-after", "missing")] += 1

            await asyncio.gather(*(worker(n) for n in range(64)))
        return {"statuses": dict(statuses), "retry_after": dict(retry_after)}

    report.put(asyncio.run(run()))


def flood_socketio(host: str, port: int, source: str, seconds: float, report: Queue) -> None:
    """Socket.IO ``order`` events as fast as one websocket takes them, from ``source``;
    reports how many were sent and the ``error`` events with ``retry_after`` that came back."""
    sock = socket.create_connection((host, port), source_address=(source, 0))
    errors: Counter[str] = Counter()
    with connect(
        f"ws://{host}:{port}/sockets/?EIO=4&transport=websocket", sock=sock, max_size=None
    ) as ws:
        assert str(ws.recv()).startswith("0")
        ws.send("40")
        assert str(ws.recv()).startswith("40")
        stop = threading.Event()

        def drain() -> None:
            while not stop.is_set():
                try:
                    message = str(ws.recv(timeout=0.5))
                except TimeoutError:
                    continue
                except Exception:
                    return
                if message == "2":
                    ws.send("3")
                elif message.startswith("42"):
                    name, *args = json.loads(message[2:])
                    if name == "error" and args and isinstance(args[0], dict):
                        kind = "retry_after" if "retry_after" in args[0] else "other"
                        errors[kind] += 1

        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        sent = 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for _ in range(50):
                ws.send('42["order"]')
                sent += 1
            time.sleep(0.02)  # about 2,500 events a second
        time.sleep(1.0)
        stop.set()
        reader.join(2)
    report.put({"sent": sent, "errors": dict(errors)})
