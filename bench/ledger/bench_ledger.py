"""Throughput and latency of the ledger's full 3-participant consensus, and the cost of a proof.

Starts three participants (``python -m services.ledger``, SQLite, synchronous=FULL) and drives
them over the real websocket API:

- single: one request at a time; latency from sending ``issue-transaction`` to the final
  ``done`` (the whole round: propose, sign, commit, post-commit). Target p99 < 100 ms.
- batched: CLIENTS concurrent clients; requests that arrive while a round is in flight go
  into the next round together. Target >= 200 committed transactions/s.
- genesis: one create-ledger round carrying 500 transactions (a batch of one request).
- proof: an inclusion proof over HTTP (route latency) and in process (path + verification).

    uv run python bench/ledger/bench_ledger.py [--single 200] [--batched 2000] [--clients 64]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.calibration import calibration_line  # noqa: E402
from services.ledger.merkle import MerkleTree, leaf_hash, verify_inclusion  # noqa: E402
from tests.support.ledger import (  # noqa: E402
    PASSWORD,
    USER,
    LedgerCluster,
    create_message,
    issue_message,
)


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def issue(url: str, message: dict[str, object]) -> float:
    started = time.perf_counter()
    async with connect(url, max_size=2**22) as ws:
        await ws.send(json.dumps(message))
        async for frame in ws:
            reply = json.loads(frame)
            if reply.get("done"):
                return time.perf_counter() - started
            if "problem-code" in reply:
                raise RuntimeError(reply["explain"])
    raise RuntimeError("closed without an answer")


async def run(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-ledger-"))
    cluster = LedgerCluster(tmp, ["a", "b", "c"], env={"LOG_LEVEL": "WARNING"})
    cluster.start_all()
    try:
        rows: list[tuple[str, str, str, str]] = []
        cluster.request("a", create_message("bench"))
        url = cluster.ws_url("a", cluster.token("a"))
        for i in range(20):  # warm-up: connections, caches
            await issue(url, issue_message("bench", f"w{i}"))

        single = [await issue(url, issue_message("bench", f"s{i}")) for i in range(args.single)]
        rows.append(
            (
                "single commit latency (1 request at a time)",
                f"p50 {pct(single, 0.5):.1f} ms, p99 {pct(single, 0.99):.1f} ms",
                "p99 < 100 ms",
                "ok" if pct(single, 0.99) < 100 else "MISSED",
            )
        )

        queue = list(range(args.batched))

        async def client() -> None:
            while queue:
                i = queue.pop()
                await issue(url, issue_message("bench", f"b{i}"))

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(args.clients)))
        elapsed = time.perf_counter() - started
        rate = args.batched / elapsed
        rows.append(
            (
                f"batched ({args.clients} concurrent clients, {args.batched} txns)",
                f"{rate:.0f} txn/s",
                ">= 200 txn/s",
                "ok" if rate >= 200 else "MISSED",
            )
        )

        genesis = create_message("bench-genesis", genesis=500, ttl=60)
        started = time.perf_counter()
        replies = cluster.request("b", genesis)
        elapsed = time.perf_counter() - started
        assert replies[-1].get("done"), replies[-1]
        rows.append(
            ("one round of 500 (create-ledger genesis)", f"{500 / elapsed:.0f} txn/s", "", "")
        )

        ledger = cluster.ledger_by_name("a", "bench")
        assert ledger is not None
        size = ledger["size"]
        with httpx.Client(auth=(USER, PASSWORD), timeout=10) as http:
            samples = []
            for seq_no in range(1, 201):
                t0 = time.perf_counter()
                response = http.get(
                    f"{cluster.url('a')}/ledgers/{ledger['id']}/transactions/"
                    f"{1 + seq_no * 7 % size}/proof"
                )
                samples.append(time.perf_counter() - t0)
                response.raise_for_status()
        rows.append(
            (
                f"proof over HTTP (tree of {size}, BasicAuth incl.)",
                f"p50 {pct(samples, 0.5):.1f} ms, p99 {pct(samples, 0.99):.1f} ms",
                "",
                "",
            )
        )
        leaves = [leaf_hash(str(i).encode()) for i in range(100_000)]
        tree = MerkleTree(leaves)
        root = tree.root()
        t0 = time.perf_counter()
        for i in range(0, 100_000, 100):
            assert verify_inclusion(leaves[i], i, 100_000, tree.inclusion_proof(i), root)
        per = (time.perf_counter() - t0) / 1000
        rows.append(
            ("proof in process (100 000 leaves): path + verify", f"{per * 1e6:.0f} µs", "", "")
        )

        # Every participant ends with the same root.
        roots = {n: cluster.ledger_by_name(n, "bench")["root_hash"] for n in cluster.names}  # type: ignore[index]
        assert len(set(roots.values())) == 1, roots

        width = max(len(r[0]) for r in rows)
        print(calibration_line())
        print(f"\n{'measure'.ljust(width)} | result | target | ")
        for name, result, target, verdict in rows:
            print(f"{name.ljust(width)} | {result} | {target} | {verdict}")
        print(f"\nsingle: mean {statistics.fmean(single) * 1000:.1f} ms over {len(single)}")
    finally:
        cluster.stop_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--single", type=int, default=200)
    parser.add_argument("--batched", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=64)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
