"""Grid benchmarks: storage API throughput and latency, and the time to settle one slice.

1. Storage: a grid process (one uvicorn worker) and, from this process, N keep-alive
   connections sending GET (then PUT) of 1000 items for a few seconds each.
   Targets: GET >= 2000 req/s, PUT >= 1000 req/s, p99 < 20 ms.
2. Settle: a real devnet, 20 producer and 100 consumer channels (hello + one message for
   one slice), the grid's own engine: read all channels, price, bill, publish 100
   payment requests. Target < 5 s.

    uv run python bench/grid/bench_grid.py [--seconds 5] [--connections 16]
        [--producers 20] [--consumers 100] [--skip-settle]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

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
    )
    log = open(data / "grid.log", "ab")  # noqa: SIM115 - lives as long as the process
    process = subprocess.Popen(
        [sys.executable, "-m", "services.grid"], env=env, cwd=ROOT, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
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


def bench_settle(producers: int, consumers: int, mwm: int) -> list[tuple[str, str, str, str]]:
    from services.grid.app import create_app  # noqa: F401 - imports the kernels once
    from services.grid.engine import GridEngine
    from services.grid.ledger import Ledger
    from services.grid.settings import GridSettings
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
        ledger = Ledger(
            sessions, slice_seconds=3600, fee_percent=20, pricing="weighted", default_price=10
        )
        wallet = Wallet(settings.seed.get_secret_value(), devnet.api_url, engine)
        wallet.warm_up()
        grid = GridEngine(settings, ledger, follower, book, wallet, node)
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

        read, bill, total, made = asyncio.run(settle())
        node.close()
    finally:
        devnet.stop()
        devnet.kill()
    return [
        (
            f"settle {consumers} consumers / {producers} producers, MWM {mwm}",
            f"{total:.2f} s (read {read:.2f} s; price, bill, publish {made} requests {bill:.2f} s)",
            "< 5 s",
            "yes" if total < 5 and made == consumers else "NO",
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--producers", type=int, default=20)
    parser.add_argument("--consumers", type=int, default=100)
    parser.add_argument("--mwm", type=int, default=9, help="the devnet's minimum weight")
    parser.add_argument("--skip-settle", action="store_true")
    parser.add_argument("--skip-storage", action="store_true")
    args = parser.parse_args()
    rows = [] if args.skip_storage else bench_storage(args.seconds, args.connections)
    if not args.skip_settle:
        rows += bench_settle(args.producers, args.consumers, args.mwm)
    width = max(len(row[0]) for row in rows)
    print(f"\n{'measure':<{width}} | result | target | met")
    for name, result, target, met in rows:
        print(f"{name:<{width}} | {result} | {target} | {met}")


if __name__ == "__main__":
    main()
