"""The payment hot path alone: CPU per payment on each side, optionally cProfiled.

    uv run python bench/channels/profile_channels.py --payments 3000 [--synchronous NORMAL]
    uv run python bench/channels/profile_channels.py --profile /tmp/channels-prof

No devnet: a receiving ``services.channels`` process (role ``front``, one uvicorn worker)
on a SQLite database where the channel is already open with a deposit credited (what its
watcher would have copied from the agent), and an in-process payer paying one payment
after another, as in bench_channels.py. Prints the rate, latency and each side's CPU per
payment; with ``--profile PREFIX`` writes ``PREFIX.payer`` and ``PREFIX.receiver``
(cProfile of the payer's loop thread and the receiver's; database work runs in worker
threads, which cProfile does not see: time it with ``time.thread_time``).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from shared.channels.node import ChannelConfig, ChannelNode, public_key_hex
from shared.channels.rules import ChannelDefinition, PartyDef
from tests.support.process import ManagedProcess, free_port

ADDR_A = "A" * 80 + "9"
ADDR_B = "B" * 80 + "9"
NOWHERE = "http://127.0.0.1:9"  # no agent: the channel is open before the receiver starts

# The receiver under cProfile: uvicorn re-raises SIGTERM after its shutdown; turning it
# into SystemExit lets the profile be written.
_PROFILED = """
import cProfile, signal, sys
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
from services.channels.__main__ import main
profile = cProfile.Profile()
profile.enable()
try:
    main()
finally:
    profile.disable()
    profile.dump_stats(sys.argv[1])
"""


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _open_channel(node: ChannelNode, definition: ChannelDefinition, role: str, peer: str) -> None:
    node._core.insert_channel(definition, role, peer, None)
    deposit = {"deposited_by_me" if role == "A" else "deposited_by_peer": 10**12}
    node._core.set(
        definition.channel_id, status="open", registered=True, is_peer_ready=True, **deposit
    )


async def _pay(args: argparse.Namespace, payer: ChannelNode, cid: str, pid: int) -> None:
    for i in range(50):  # warm the connection and both databases
        await payer.pay(cid, 1, {"warm": i})
    profile = cProfile.Profile() if args.profile else None
    if profile is not None:
        profile.enable()
    latencies: list[float] = []
    cpu_payer, cpu_receiver = time.process_time(), _cpu_seconds(pid)
    started = time.perf_counter()
    for i in range(args.payments):
        t0 = time.perf_counter()
        answer = await payer.pay(cid, 1, {"order": i})
        latencies.append(time.perf_counter() - t0)
        assert answer == {"received": 1, "message": {"order": i}}, answer
    elapsed = time.perf_counter() - started
    cpu_payer = time.process_time() - cpu_payer
    cpu_receiver = _cpu_seconds(pid) - cpu_receiver
    if profile is not None:
        profile.disable()
        profile.dump_stats(f"{args.profile}.payer")
    ms = [x * 1000 for x in latencies]
    n = args.payments
    print(
        f"{n} payments, SQLite synchronous={args.synchronous}, load {os.getloadavg()[0]:.1f}: "
        f"{n / elapsed:.0f}/s, p50 {_pct(ms, 0.5):.2f} ms, p99 {_pct(ms, 0.99):.2f} ms, "
        f"max {max(ms):.1f} ms; CPU per payment payer {cpu_payer / n * 1000:.3f} ms, "
        f"receiver {cpu_receiver / n * 1000:.3f} ms "
        f"(allows {n / (cpu_payer + cpu_receiver):.0f}/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=3000)
    parser.add_argument("--synchronous", choices=["FULL", "NORMAL"], default="FULL")
    parser.add_argument("--profile", default="", help="write cProfile files PREFIX.payer/.receiver")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="profile-channels-"))
    payer_key, receiver_hex = Ed25519PrivateKey.generate(), secrets.token_hex(32)
    receiver_key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(receiver_hex))
    definition = ChannelDefinition(
        PartyDef(ADDR_A, public_key_hex(payer_key)),
        PartyDef(ADDR_B, public_key_hex(receiver_key)),
        60,
        "bench",
    )
    config = ChannelConfig(
        agent_url=NOWHERE, public_url=NOWHERE, sqlite_synchronous=args.synchronous
    )
    receiver_db = ChannelNode(receiver_key, f"sqlite:///{tmp}/receiver/channels.db", config)
    _open_channel(receiver_db, definition, "B", NOWHERE)
    receiver_db.engine.dispose()
    port = free_port()
    env = {
        "CHANNELS_ROLE": "front",
        "CHANNELS_HOST": "127.0.0.1",
        "CHANNELS_PORT": str(port),
        "CHANNELS_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "CHANNELS_NODE_URL": NOWHERE,
        "CHANNELS_KEY": receiver_hex,
        "CHANNELS_DATA_DIR": str(tmp / "receiver"),
        "CHANNELS_SQLITE_SYNCHRONOUS": args.synchronous,
    }
    command = ["-c", _PROFILED, f"{args.profile}.receiver"] if args.profile else []
    receiver = ManagedProcess(
        "receiver",
        command or ["-m", "services.channels"],
        env=env,
        log_path=tmp / "receiver.log",
    )
    receiver.start(
        ready=lambda: (
            None if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200 else "starting"
        )
    )
    payer = ChannelNode(payer_key, f"sqlite:///{tmp}/payer.db", config)
    _open_channel(payer, definition, "A", f"http://127.0.0.1:{port}/channels/peer")

    async def run() -> None:
        try:
            assert receiver.pid is not None
            await _pay(args, payer, definition.channel_id, receiver.pid)
        finally:
            await payer.aclose()

    try:
        asyncio.run(run())
    finally:
        receiver.stop()


if __name__ == "__main__":
    main()
