"""What this machine can do right now, measured in the same run as a benchmark.

Machines differ (the same benches, on a quiet machine, ran 1.5-2x slower on another one)
and so does the load beside a run: a figure alone cannot be compared with one taken
elsewhere. Every benchmark table starts with these three rows, so a reader can divide a
figure by the matching calibration (CPU-bound work by the loop, durable writes by the
fsync, request latency by the HTTP round trip) before comparing it.

    from bench.calibration import calibrate, calibration_rows
    rows = calibration_rows(calibrate(Path(tmp)))

Each measure is the median of several repeats, so one preemption does not move it.
"""

from __future__ import annotations

import http.client
import os
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

LOOP_ITERATIONS = 1_000_000
FSYNC_WRITES = 30
HTTP_ROUND_TRIPS = 300


@dataclass(frozen=True)
class Calibration:
    loop_ms: float  # the fixed pure-Python loop below, one run
    fsync_ms: float  # write 4 KiB and fsync it, one write
    http_ms: float  # one keep-alive HTTP/1.1 GET over loopback (stdlib on both ends)
    load: tuple[float, float, float]  # os.getloadavg() when the calibration ran


def _python_loop() -> float:
    started = time.perf_counter()
    total = 0
    for i in range(LOOP_ITERATIONS):
        total += i * 7 % 13
    elapsed = time.perf_counter() - started
    assert total > 0  # keeps the loop from looking like dead code to a reader
    return elapsed * 1000


def _fsync(folder: Path) -> float:
    block = os.urandom(4096)
    times: list[float] = []
    fd, name = tempfile.mkstemp(dir=folder, prefix="calibration-")
    try:
        for _ in range(FSYNC_WRITES):
            started = time.perf_counter()
            os.write(fd, block)
            os.fsync(fd)
            times.append(time.perf_counter() - started)
    finally:
        os.close(fd)
        os.unlink(name)
    return statistics.median(times) * 1000


class _Hello(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK turn each round trip into ~40 ms of waiting, not of work.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # a log line per request would be part of what is measured


def _http_round_trip() -> float:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
        times: list[float] = []
        for _ in range(HTTP_ROUND_TRIPS):
            started = time.perf_counter()
            connection.request("GET", "/")
            connection.getresponse().read()
            times.append(time.perf_counter() - started)
        connection.close()
    finally:
        server.shutdown()
        server.server_close()
    return statistics.median(times) * 1000


def calibrate(folder: Path | None = None) -> Calibration:
    """Measure now; ``folder`` should be on the disk the benchmark's databases use."""
    loop = statistics.median(_python_loop() for _ in range(3))
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        fsync = _fsync(Path(tmp))
    return Calibration(
        loop_ms=loop,
        fsync_ms=fsync,
        http_ms=_http_round_trip(),
        load=os.getloadavg(),
    )


def calibration_rows(calibration: Calibration) -> list[tuple[str, str]]:
    """(what, figure) rows for the top of a benchmark table."""
    load = ", ".join(f"{value:.2f}" for value in calibration.load)
    return [
        (
            f"calibration: pure-Python loop ({LOOP_ITERATIONS:,} iterations)",
            f"{calibration.loop_ms:.1f} ms",
        ),
        ("calibration: 4 KiB write + fsync (median)", f"{calibration.fsync_ms:.2f} ms"),
        ("calibration: loopback HTTP/1.1 GET, keep-alive", f"{calibration.http_ms:.3f} ms"),
        ("load average (1, 5, 15 min) at calibration", load),
    ]


def calibration_line(calibration: Calibration | None = None) -> str:
    """One line for benches whose tables are not markdown: measured now unless given."""
    c = calibration or calibrate()
    load = ", ".join(f"{value:.2f}" for value in c.load)
    return (
        f"calibration: pure-Python loop {c.loop_ms:.1f} ms, 4 KiB write + fsync "
        f"{c.fsync_ms:.2f} ms, loopback HTTP GET {c.http_ms:.3f} ms; load {load}"
    )


def print_calibration(calibration: Calibration, columns: int = 3) -> None:
    """Print the rows in the markdown table shape most benches use (| what | figure | ... |)."""
    for what, figure in calibration_rows(calibration):
        print(f"| {what} | {figure} |" + " |" * (columns - 2))


if __name__ == "__main__":
    print("| what | figure | target |")
    print("| --- | ---: | --- |")
    print_calibration(calibrate())
