"""How fast this machine is right now: the first lines of every benchmark table.

The development machine is shared, so a latency figure alone says little: a benchmark prints,
from the same run, what a fixed amount of pure-Python work, one fsync and one loopback HTTP
round trip cost at that moment (and the load average), so a reader can tell a slow machine
from a slow code path and compare runs made under different load.

    calibration = calibrate(tmp_dir)
    for line in calibration.lines():
        print(line)
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

__all__ = ["Calibration", "calibrate"]

#: Iterations of the fixed pure-Python loop (about 30-60 ms on the development machine).
LOOP_ITERATIONS = 1_000_000


@dataclass(frozen=True)
class Calibration:
    """Milliseconds per unit of reference work, measured in this run."""

    python_loop_ms: float  # best of 3 runs of LOOP_ITERATIONS additions
    fsync_ms: float  # p50 of a 4 KiB write + fsync in the benchmark's directory
    fsync_p99_ms: float
    http_ms: float  # p50 of a keep-alive GET to a loopback stdlib server (httpx client)
    load: tuple[float, float, float]  # os.getloadavg() at the end

    def lines(self) -> list[str]:
        one, five, fifteen = self.load
        return [
            f"calibration (this run): python loop {self.python_loop_ms:.1f} ms"
            f" ({LOOP_ITERATIONS:,} additions), fsync p50 {self.fsync_ms:.2f} ms"
            f" (p99 {self.fsync_p99_ms:.2f}), loopback HTTP round trip p50"
            f" {self.http_ms:.2f} ms; load {one:.2f} {five:.2f} {fifteen:.2f}",
        ]


def _python_loop() -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for i in range(LOOP_ITERATIONS):
            total += i
        best = min(best, time.perf_counter() - started)
    assert total == LOOP_ITERATIONS * (LOOP_ITERATIONS - 1) // 2
    return best * 1000


def _fsyncs(directory: Path, rounds: int) -> list[float]:
    path = directory / f"calibration-{os.getpid()}.bin"
    samples = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        block = b"\0" * 4096
        for _ in range(rounds):
            os.write(fd, block)
            started = time.perf_counter()
            os.fsync(fd)
            samples.append(time.perf_counter() - started)
    finally:
        os.close(fd)
        path.unlink(missing_ok=True)
    return samples


class _Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the benchmarks' clients use
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms Nagle wait

    def do_GET(self) -> None:
        body = b'{"ok":true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _http_round_trips(rounds: int) -> list[float]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    samples = []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.server_port}") as client:
            client.get("/").raise_for_status()  # connect outside the samples
            for _ in range(rounds):
                started = time.perf_counter()
                client.get("/").raise_for_status()
                samples.append(time.perf_counter() - started)
    finally:
        server.shutdown()
        server.server_close()
    return samples


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def calibrate(directory: Path, rounds: int = 200) -> Calibration:
    """Measure the reference work; ``directory`` is where the benchmark keeps its databases."""
    loop = _python_loop()
    fsyncs = _fsyncs(Path(directory), rounds)
    http = _http_round_trips(rounds)
    return Calibration(
        python_loop_ms=loop,
        fsync_ms=_pct(fsyncs, 0.5),
        fsync_p99_ms=_pct(fsyncs, 0.99),
        http_ms=_pct(http, 0.5),
        load=os.getloadavg(),
    )
