"""Off-ledger channel payments vs ledger transfers, on a real devnet.

    uv run python bench/channels/bench_channels.py --payments 2000 --ledger 5

Starts a devnet and a receiving channel node (``python -m services.channels``, one
uvicorn worker), opens one channel from an in-process payer, then times payments one
after the other: payer -> signed package -> HTTP -> receiver checks, records, calls back
-> answer -> payer records it. Then the same payment as a ledger transfer (wallet.send:
PoW + store, then the milestone confirmation). Prints a table with the targets.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.calibration import calibrate, print_calibration
from shared.channels.node import ChannelConfig, ChannelNode
from shared.iota.wallet import Wallet
from tests.support.channels import ChannelProcess
from tests.support.devnet import DevnetProcess, random_seed


def _cpu_seconds(process: ChannelProcess) -> float:
    """User + system CPU seconds of the receiver process so far (Linux /proc)."""
    pid = process.pid
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _run(args: argparse.Namespace, devnet: DevnetProcess, bob: ChannelProcess, tmp: Path):
    wallet = Wallet(random_seed(), devnet.api_url, f"sqlite:///{tmp}/payer.db", security=2)
    await asyncio.to_thread(wallet.warm_up)
    funding = await asyncio.to_thread(wallet.new_address, "funding")
    paid = await asyncio.to_thread(devnet.faucet, funding, 1_000_000)
    await asyncio.to_thread(devnet.wait_confirmed, [paid["tail"]], 60)
    node = ChannelNode(
        Ed25519PrivateKey.generate(),
        f"sqlite:///{tmp}/payer-channels.db",
        ChannelConfig(
            agent_url=devnet.api_url,
            public_url="http://127.0.0.1:9/none",
            sqlite_synchronous=args.synchronous,
        ),
        wallet,
    )
    watcher = asyncio.create_task(node.watch())
    try:
        cid = await node.create_channel(bob.peer_url, 500_000, timeout=60)
        await node.wait_for(cid, lambda s: s["status"] == "open", timeout=60)
        for i in range(20):  # warm the connection and both databases
            await node.pay(cid, 1, {"warm": i})
        latencies: list[float] = []
        cpu_payer, cpu_receiver = time.process_time(), _cpu_seconds(bob)
        started = time.perf_counter()
        for i in range(args.payments):
            t0 = time.perf_counter()
            answer = await node.pay(cid, 1, {"order": i})
            latencies.append(time.perf_counter() - t0)
            assert answer == {"received": 1, "message": {"order": i}}, answer
        elapsed = time.perf_counter() - started
        cpu_payer = time.process_time() - cpu_payer
        cpu_receiver = _cpu_seconds(bob) - cpu_receiver
        ledger_send: list[float] = []
        ledger_total: list[float] = []
        target = await asyncio.to_thread(wallet.new_address, "ledger-bench")
        for _ in range(args.ledger):
            t0 = time.perf_counter()
            result = await asyncio.to_thread(wallet.send, 1, target, tag="CHANNEL9BENCH")
            t1 = time.perf_counter()
            await asyncio.to_thread(wallet.wait_until_confirmed, result.tail_hash, 60, 0.05)
            ledger_send.append(t1 - t0)
            ledger_total.append(time.perf_counter() - t0)
    finally:
        watcher.cancel()
        await node.aclose()
    rate = args.payments / elapsed
    ms = [x * 1000 for x in latencies]
    print(
        f"\nchannel payments: {args.payments} on one channel, one receiver worker, "
        f"SQLite synchronous={args.synchronous}"
    )
    print("| what | figure | target |")
    print("| --- | ---: | --- |")
    print_calibration(calibrate(tmp))
    print(f"| off-ledger payments/s | {rate:.0f} | >= 500 |")
    print(
        f"| off-ledger p50 latency (payer -> callback answer -> payer) | {_pct(ms, 0.5):.2f} ms | |"
    )
    print(f"| off-ledger p99 latency | {_pct(ms, 0.99):.2f} ms | < 20 ms |")
    print(f"| off-ledger max latency | {max(ms):.2f} ms | |")
    payer_ms = cpu_payer / args.payments * 1000
    receiver_ms = cpu_receiver / args.payments * 1000
    print(f"| CPU per payment: payer / receiver | {payer_ms:.2f} ms / {receiver_ms:.2f} ms | |")
    print(
        f"| payments/s the CPU allows (1 / (payer + receiver CPU)) | "
        f"{1000 / (payer_ms + receiver_ms):.0f} | >= 500 |"
    )
    if ledger_total:
        print(
            f"| ledger transfer: send (PoW + store), median of {args.ledger} | "
            f"{statistics.median(ledger_send) * 1000:.0f} ms | |"
        )
        print(
            f"| ledger transfer: send + confirmation, median | "
            f"{statistics.median(ledger_total) * 1000:.0f} ms | |"
        )
        per_second = 1 / statistics.median(ledger_total)
        print(f"| ledger transfers/s (one wallet, confirmed) | {per_second:.2f} | |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=2000)
    parser.add_argument("--ledger", type=int, default=5)
    parser.add_argument("--milestone-interval", type=float, default=0.5)
    parser.add_argument(
        "--watch-interval",
        type=float,
        default=0.3,
        help="the receiver's CHANNELS_WATCH_INTERVAL (as the tests; the service's default is 1)",
    )
    parser.add_argument(
        "--synchronous",
        choices=["FULL", "NORMAL"],
        default="FULL",
        help="SQLite synchronous pragma of both parties' channel databases",
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-channels-"))
    devnet = DevnetProcess(tmp / "devnet", milestone_interval=args.milestone_interval)
    devnet.start(timeout=180)
    try:
        extra = {
            "CHANNELS_SQLITE_SYNCHRONOUS": args.synchronous,
            "CHANNELS_WATCH_INTERVAL": str(args.watch_interval),
        }
        with ChannelProcess("bob", devnet, tmp / "bob", extra_env=extra) as bob:
            asyncio.run(_run(args, devnet, bob, tmp))
    finally:
        devnet.stop()
        devnet.kill()


if __name__ == "__main__":
    main()
