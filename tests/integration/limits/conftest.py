"""A devnet, a robot and a grid as real processes, and raw clients that can pick their own
loopback address (127.0.0.1 and 127.0.0.2 are two client addresses to the limiter)."""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.grid.conftest import grid_env, patient_devnet
from tests.integration.robot.machines import ServiceProcess, machine_env
from tests.support.devnet import DevnetProcess
from tests.support.process import free_port

FLOODER = "127.0.0.2"
MEASURER = "127.0.0.1"
# The limit as an operator would set it (RATE_LIMIT_*): under a loaded 2-core machine the
# grid takes only about 40 storage writes a second, less than the default limit, so the
# tests set one the flood surely exceeds while the measuring client (10 a second) never does.
LIMITS = {"rate_limit_per_second": 20, "rate_limit_burst": 40}


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevnetProcess]:
    with patient_devnet(tmp_path_factory.mktemp("devnet")) as process:
        yield process


@pytest.fixture(scope="module")
def robot(
    devnet: DevnetProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    data = tmp_path_factory.mktemp("robot")
    # No provider: these tests never get as far as paying one.
    env = machine_env(
        devnet,
        "robot 1",
        data,
        provider_url=f"http://127.0.0.1:{free_port()}",
        price=100,
        **LIMITS,
    )
    process = ServiceProcess("robot", env, data)
    process.start(timeout=300)  # the shared machine is often very loaded
    try:
        yield process
    finally:
        process.kill()


@pytest.fixture(scope="module")
def grid(
    devnet: DevnetProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    data = tmp_path_factory.mktemp("grid")
    process = ServiceProcess("grid", grid_env(devnet, data, **LIMITS), data)
    process.start(timeout=300)  # the shared machine is often very loaded
    try:
        yield process
    finally:
        process.kill()


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def engineio_session(url: str) -> str:
    """Open an Engine.IO long-polling session and connect the default namespace: its sid."""
    opened = httpx.get(f"{url}/sockets/?EIO=4&transport=polling", timeout=10)
    assert opened.status_code == 200, opened.text
    sid = json.loads(opened.text[1:])["sid"]
    connect = httpx.post(f"{url}/sockets/?EIO=4&transport=polling&sid={sid}", content="40")
    assert connect.status_code == 200, connect.text
    return str(sid)


def send_big_body(
    port: int, path: str, size: int, *, chunked: bool, timeout: float = 40.0
) -> tuple[str, float, int]:
    """POST ``size`` bytes to ``path`` over a raw socket, sending until the server answers.

    Returns the status line (or ``"closed"`` when the server hung up without one), the
    seconds until then, and how many body bytes were sent by then."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
    head += "Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {size}\r\n"
    sock.sendall((head + "\r\n").encode())
    started = time.monotonic()
    piece = b"4" * 65536
    if chunked:
        piece = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    sent = 0
    reply = b""
    sock.setblocking(False)
    try:
        while time.monotonic() - started < timeout:
            sending = sent < size
            readable, writable, _ = select.select([sock], [sock] if sending else [], [], 0.5)
            if readable:
                try:
                    data = sock.recv(65536)
                except ConnectionResetError:
                    data = b""
                if not data:
                    return (
                        (reply.split(b"\r\n")[0].decode() or "closed"),
                        time.monotonic() - started,
                        sent,
                    )
                reply += data
                if b"\r\n" in reply:
                    return reply.split(b"\r\n")[0].decode(), time.monotonic() - started, sent
            if writable:
                try:
                    sock.send(piece)
                    sent += 65536
                    if sent >= size and chunked:
                        sock.setblocking(True)
                        sock.sendall(b"0\r\n\r\n")
                        sock.setblocking(False)
                except (BrokenPipeError, ConnectionResetError):
                    return "closed", time.monotonic() - started, sent
        return "no answer", time.monotonic() - started, sent
    finally:
        sock.close()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]
