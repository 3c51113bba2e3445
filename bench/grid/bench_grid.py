"""Grid benchmarks: storage API throughput and latency, and the time to settle one slice.

1. Storage: a grid process (one uvicorn worker) and, from this process, N keep-alive
   connections sending GET (then PUT) of 1000 items for a few seconds each.
   Targets: GET >= 2000 req/s, PUT >= 1000 req/s, p99 < 20 ms.
2. Settle: a real devnet, 20 producer and 100 consumer channels (hello + one message for
   one slice), the grid's own settlement: read all channels, price, bill, publish 100
   payment requests. Target < 5 s.

3. Payout latency: the seed-001 economy as real processes (devnet with 1 s milestones,
   wind and solar, producer, consumer, grid; tests/integration/energy/parties.py sets
   it up) with SLICE_SECONDS=2: for each slice paid on its own, the time from the
   usage slice's endTime to the producer's payout confirmed by a milestone, and where
   that time goes. Target p50 < 6 s.

    uv run python bench/grid/bench_grid.py [--seconds 5] [--connections 16]
        [--producers 20] [--consumers 100] [--skip-settle] [--skip-storage]
        [--payout-slices 20] [--skip-payout] [--grid KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import os
import random
import re
import secrets
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.calibration import calibrate, calibration_rows  # noqa: E402
from tests.support.devnet import DevnetProcess, free_port, random_seed  # noqa: E402

OWNER = "BENCH9PRODUCER"
TRYTES = "9ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


# -- storage ---------------------------------------------------------------------------


def start_grid(data: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        SEED=random_seed(),
        PORT=str(port),
        HOST="127.0.0.1",
        DATA_DIR=str(data),
        # no node: the storage API needs none and the loops idle without one
        IOTA_NODE_URL=f"http://127.0.0.1:{free_port()}",
        IOTA_ZMQ_URL=f"tcp://127.0.0.1:{free_port()}",
        LOG_LEVEL="WARNING",
        # one client (this benchmark) is all the load: the per-client limit would answer
        # most requests 429; the limiter's own cost stays in the path
        RATE_LIMIT_PER_SECOND="1000000",
        RATE_LIMIT_BURST="1000000",
    )
    log = open(data / "grid.log", "ab")  # noqa: SIM115 - lives as long as the process
    process = subprocess.Popen(
        [sys.executable, "-m", "services.grid"], env=env, cwd=ROOT, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        try:
            # 503 is an answer too: /health tells the truth that this grid has no node,
            # which the storage API does not need.
            if httpx.get(url + "/health", timeout=2).status_code in (200, 503):
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("the grid did not start")


Request = Callable[[], bytes]


async def _worker(
    port: int, request: Request, deadline: float, latencies: list[float], errors: list[int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < deadline:
            data = request()
            started = time.perf_counter()
            writer.write(data)
            status = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if b" 200 " not in status:
                errors.append(1)
    finally:
        writer.close()


def load(
    port: int, request: Request, seconds: float, connections: int
) -> tuple[float, float, float, int]:
    latencies: list[float] = []
    errors: list[int] = []

    async def run() -> None:
        deadline = time.perf_counter() + seconds
        await asyncio.gather(
            *(_worker(port, request, deadline, latencies, errors) for _ in range(connections))
        )

    started = time.perf_counter()
    asyncio.run(run())
    elapsed = time.perf_counter() - started
    return (
        len(latencies) / elapsed,
        percentile(latencies, 0.5),
        percentile(latencies, 0.99),
        len(errors),
    )


def bench_storage(seconds: float, connections: int) -> list[tuple[str, str, str, str]]:
    data = Path(tempfile.mkdtemp(prefix="bench-grid-"))
    process, url = start_grid(data)
    port = int(url.rsplit(":", 1)[1])
    try:
        httpx.put(
            f"{url}/registration/{OWNER}",
            json={"itemName": "b", "itemType": "producer"},
            timeout=60,
        )
        with httpx.Client(timeout=60) as client:
            for n in range(1000):
                client.put(f"{url}/storage/{OWNER}/bench/item{n}", json={"n": n, "text": "x" * 200})
        get_lines = [
            f"GET /storage/{OWNER}/bench/item{n} HTTP/1.1\r\nHost: grid\r\n\r\n".encode()
            for n in range(1000)
        ]
        rng = random.Random(1)
        get = load(port, lambda: rng.choice(get_lines), seconds, connections)
        body = json.dumps({"n": 1, "text": "y" * 200}).encode()

        def put_request() -> bytes:
            n = rng.randrange(2000)
            return (
                f"PUT /storage/item/{OWNER}/bench/item{n} HTTP/1.1\r\nHost: grid\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            ).encode() + body

        put = load(port, put_request, seconds, connections)
    finally:
        process.kill()
        process.wait(10)
    rows = []
    for name, (rate, p50, p99, errors), target in (
        ("storage GET", get, 2000),
        ("storage PUT", put, 1000),
    ):
        rows.append(
            (
                name,
                f"{rate:,.0f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, errors {errors}",
                f">= {target} req/s, p99 < 20 ms",
                "yes" if rate >= target and p99 < 20 and not errors else "NO",
            )
        )
    return rows


# -- settle ----------------------------------------------------------------------------


def bench_settle(
    producers: int, consumers: int, mwm: int, profile: str | None = None
) -> list[tuple[str, str, str, str]]:
    from services.grid.app import create_app  # noqa: F401 - imports the kernels once
    from services.grid.bookkeeping import GridBooks
    from services.grid.settings import GridSettings
    from services.grid.settlement import GridSettlement
    from shared.db import make_engine, make_sessionmaker, sqlite_url
    from shared.energy.channels import ChannelBook
    from shared.energy.follower import ChannelFollower
    from shared.energy.messages import EnergyMessage, Hello, ProducerOutput, Usage
    from shared.energy.models import EnergyBase
    from shared.energy.registration import RegistrationRequest, RegistrationStore
    from shared.energy.slices import now_ms, slice_at
    from shared.iota.wallet import Wallet
    from shared.mam.tangle import NodeApi

    data = Path(tempfile.mkdtemp(prefix="bench-settle-"))
    devnet = DevnetProcess(data / "devnet", milestone_interval=1.0, mwm=mwm)
    devnet.start(timeout=240)
    try:
        node = NodeApi(devnet.api_url)
        party_engine = make_engine(sqlite_url(data, "parties"))
        EnergyBase.metadata.create_all(party_engine)
        parties = ChannelBook(node, make_sessionmaker(party_engine), mwm=devnet.mwm)
        settings = GridSettings.model_validate(
            {
                "seed": random_seed(),
                "data_dir": data / "grid",
                "iota_node_url": devnet.api_url,
                "iota_zmq_url": devnet.zmq_url,
                "slice_seconds": 3600,
                "min_weight_magnitude": devnet.mwm,
            }
        )
        engine = make_engine(settings.resolved_database_url())
        EnergyBase.metadata.create_all(engine)
        sessions = make_sessionmaker(engine)
        book = ChannelBook(node, sessions, mwm=devnet.mwm)
        follower = ChannelFollower(node, sessions)
        books = GridBooks(
            sessions, slice_seconds=3600, fee_percent=20, pricing="weighted", default_price=10
        )
        wallet = Wallet(settings.seed.get_secret_value(), devnet.api_url, engine)
        wallet.warm_up()
        grid = GridSettlement(settings, books, follower, book, wallet, node)
        store = RegistrationStore(sessions)
        slot = slice_at(now_ms(), 3600)
        names = [f"PRODUCER9{n:04d}" for n in range(producers)] + [
            f"CONSUMER9{n:04d}" for n in range(consumers)
        ]

        def set_up(name: str) -> None:
            parties.ensure(name)
            parties.publish(name, Hello())
            message: EnergyMessage
            if name.startswith("PRODUCER"):
                message = ProducerOutput(slot.start, slot.end, 2.0, 100 + len(name), "A" * 81)
            else:
                message = Usage(slot.start, slot.end, 0.5)
            parties.publish(name, message)
            channel = parties.get(name)
            assert channel is not None
            kind = "producer" if name.startswith("PRODUCER") else "consumer"
            follower.start(name, channel.root, channel.side_key)
            store.save(
                name,
                RegistrationRequest(
                    itemName=name, itemType=kind, root=channel.root, sideKey=channel.side_key
                ),
            )
            if kind == "consumer":
                book.ensure(f"return:{name}")

        started = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(set_up, names))
        # what the grid's background work did during the slice: the address pool filled,
        # the return channels' next keys derived
        wallet.fill_pool(consumers)
        book.warm()
        print(f"set-up: {len(names)} channels in {time.perf_counter() - started:.1f} s")

        async def settle() -> tuple[float, float, float, int]:
            t0 = time.perf_counter()
            handled = await grid.read_once()
            t1 = time.perf_counter()
            assert handled == len(names), handled
            # settle ``slot`` as if it had just ended
            made = await grid.settle_once(now=slot.end + 2000)
            t2 = time.perf_counter()
            return t1 - t0, t2 - t1, t2 - t0, made

        if profile is not None:
            # the same steps in this thread, so cProfile sees them (it profiles one thread)
            profiler = cProfile.Profile()
            profiler.enable()
            follower.poll_all(books.handle_message)
            billed = books.consumers_to_bill(slot)
            books.settle(slot, grid._new_addresses(billed), book)
            book.flush(1)
            profiler.disable()
            profiler.dump_stats(profile)
            print(f"profile written to {profile}")
            return []
        cpu = time.process_time()
        read, bill, total, made = asyncio.run(settle())
        cpu = time.process_time() - cpu
        steps = ", ".join(f"{k} {v:.2f} s" for k, v in grid.last_settle_timing.items())
        print(f"settle steps: {steps}; grid CPU {cpu:.2f} s")
        node.close()
    finally:
        devnet.stop()
        devnet.kill()
    return [
        (
            f"settle {consumers} consumers / {producers} producers, MWM {mwm}",
            f"{total:.2f} s (read {read:.2f} s; price, bill, publish {made} requests "
            f"{bill:.2f} s; load {os.getloadavg()[0]:.1f})",
            "< 5 s",
            "yes" if total < 5 and made == consumers else "NO",
        )
    ]


# -- payout latency ----------------------------------------------------------------------

_CHAIN = """
SELECT r.slice_start, r.created_at, pay.seen_at, pay.confirmed_at, p.created_at, p.sent_at,
       p.tail_hash
FROM grid_payouts p
JOIN grid_payments pay ON pay.id = p.payment_id
JOIN grid_payment_requests r ON r.address = pay.address
WHERE p.tail_hash IS NOT NULL
"""
_STAGES = ("billed", "payment seen", "payment confirmed", "payout planned", "payout sent")


def _epoch(value: str | None) -> float | None:
    """A naive UTC datetime as SQLite stores it -> Unix seconds."""
    if value is None:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=UTC).timestamp()


def bench_payout(
    slices: int, mwm: int, slice_seconds: float, grid: dict[str, str]
) -> list[tuple[str, str, str, str]]:
    from shared.mam.tangle import NodeApi
    from tests.integration.energy.parties import economy_specs, start_all

    data = Path(tempfile.mkdtemp(prefix="bench-payout-"))
    with contextlib.ExitStack() as stack:
        devnet = DevnetProcess(data / "devnet", milestone_interval=1.0, mwm=mwm)
        stack.callback(devnet.kill)
        stack.callback(devnet.stop)
        devnet.start(timeout=300)
        specs = economy_specs(
            devnet, data, secrets.token_hex(16), slice_seconds=slice_seconds, grid=grid
        )
        processes = start_all(specs, stack)
        node = stack.enter_context(NodeApi(devnet.api_url))
        database = data / "grid" / "grid.db"
        confirmed: dict[str, float] = {}
        chains: dict[int, list[list[float | None]]] = {}
        began: float | None = None  # the first payout confirmed: start-up is over
        deadline = time.monotonic() + 300 + slices * slice_seconds * 3
        print(f"payout latency: {len(processes)} services up; measuring {slices} slices")
        while time.monotonic() < deadline:
            time.sleep(0.1)
            if not database.exists():
                continue
            with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
                try:
                    rows = db.execute(_CHAIN).fetchall()
                except sqlite3.OperationalError:  # tables not there yet, or locked
                    continue
            waiting = sorted({row[6] for row in rows} - set(confirmed))
            if waiting:
                states = node.call("getInclusionStates", transactions=waiting, tips=[])["states"]
                now = time.time()
                confirmed.update(
                    {tail: now for tail, ok in zip(waiting, states, strict=True) if ok}
                )
            if began is None and confirmed:
                began = min(confirmed.values())
            if began is None:
                continue
            chains = {}
            for start, *stages, tail in rows:
                end = (start + slice_seconds * 1000) / 1000
                if end > began and tail in confirmed:
                    times = [_epoch(value) for value in stages] + [confirmed[tail]]
                    chains.setdefault(start, []).append(
                        [None if t is None else t - end for t in times]
                    )
            if len(chains) >= slices:
                break
        grid_log = processes[0].log_path.read_text(errors="replace")
    if not chains:
        raise RuntimeError(f"no payout was confirmed; see {data}")
    # a slice is paid when its last payout (every producer) is confirmed
    per_slice = sorted(chains.items())[:slices]
    latencies = [max(c[-1] or 0.0 for c in paid) for _, paid in per_slice]
    p50 = statistics.median(latencies)
    print(f"payout latency per slice (s): {', '.join(f'{x:.1f}' for x in latencies)}")
    for n, stage in enumerate((*_STAGES, "payout confirmed")):
        values = [max((c[n] or 0.0) for c in paid) for _, paid in per_slice]
        print(f"  median slice end -> {stage}: {statistics.median(values):.2f} s")
    settles = re.findall(r"event=settle_timing .*", grid_log)
    if settles:
        print(f"  grid settle (last): {settles[-1]}")
    return [
        (
            f"payout latency, {slice_seconds:g} s slices, 1 s milestones, MWM {mwm}",
            f"p50 {p50:.2f} s, p90 {percentile(latencies, 0.9) / 1000:.2f} s over "
            f"{len(latencies)} slices (load {os.getloadavg()[0]:.1f})",
            "p50 < 6 s",
            "yes" if p50 < 6 else "NO",
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--producers", type=int, default=20)
    parser.add_argument("--consumers", type=int, default=100)
    parser.add_argument("--mwm", type=int, default=9, help="the devnet's minimum weight")
    parser.add_argument("--profile", help="write a cProfile of the settle step here")
    parser.add_argument("--skip-settle", action="store_true")
    parser.add_argument("--skip-storage", action="store_true")
    parser.add_argument("--skip-payout", action="store_true")
    parser.add_argument("--payout-slices", type=int, default=20)
    parser.add_argument("--slice-seconds", type=float, default=2)
    parser.add_argument(
        "--grid", action="append", default=[], help="a grid setting for the payout run, KEY=VALUE"
    )
    args = parser.parse_args()
    rows = [] if args.skip_storage else bench_storage(args.seconds, args.connections)
    if not args.skip_settle:
        rows += bench_settle(args.producers, args.consumers, args.mwm, args.profile)
    if not args.skip_payout:
        grid = dict(item.split("=", 1) for item in args.grid)
        rows += bench_payout(args.payout_slices, args.mwm, args.slice_seconds, grid)
    if not rows:
        return
    # The calibration is taken after the runs, so the services' start-up load does not skew it.
    rows = [(what, figure, "", "") for what, figure in calibration_rows(calibrate())] + rows
    width = max(len(row[0]) for row in rows)
    print(f"\n{'measure':<{width}} | result | target | met")
    for name, result, target, met in rows:
        print(f"{name:<{width}} | {result} | {target} | {met}")


if __name__ == "__main__":
    main()
