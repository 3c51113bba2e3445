"""Order-to-finished latency of a robot on a private devnet, and its parts.

Starts a devnet, wind and robot 1 (WORK_SECONDS=0) as processes, then places orders one after
the other over Socket.IO, pays each from the faucet and times the status pushes:

  pay (PoW)     order accepted -> faucet transfer attached and stored (the customer's PoW)
  confirm       payment stored -> robot is in payout_provider (seen + milestone confirmation)
  payout        payout_provider -> working (energy order + signed transfer + PoW), split
                into asking the provider and signing + attaching (from the robot's log)
  total         order sent -> waiting_for_order again

Run: uv run python bench/order/bench_order.py [--orders 20] [--milestone-interval 1.0]
"""

from __future__ import annotations

import argparse
import re
import secrets
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import socketio

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.calibration import calibration_line
from tests.integration.robot.machines import ServiceProcess, machine_env
from tests.support.devnet import devnet_fixture


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20)
    parser.add_argument("--milestone-interval", type=float, default=1.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        token = secrets.token_hex(16)
        with devnet_fixture(root / "devnet", milestone_interval=args.milestone_interval) as dn:
            wind_env = machine_env(dn, "wind", root / "wind", work_seconds=0, machine_token=token)
            with ServiceProcess("wind", wind_env, root / "wind") as wind:
                robot_env = machine_env(
                    dn,
                    "robot 1",
                    root / "robot",
                    provider_url=wind.url,
                    work_seconds=0,
                    machine_token=token,
                    poll_interval=0.5,
                )
                with ServiceProcess("robot", robot_env, root / "robot") as robot:
                    rows = run_orders(robot.url, dn, args.orders)
                    add_payout_split(rows, robot.log_path)
    report(rows, args)


def run_orders(url: str, devnet: object, count: int) -> list[dict[str, float]]:
    client = socketio.Client()
    seen: dict[str, float] = {}
    changed = threading.Event()
    current = {"order_id": ""}

    def on_status(data: dict[str, object]) -> None:
        if data.get("order_id") == current["order_id"]:
            seen.setdefault(str(data["status"]), time.perf_counter())
            changed.set()

    client.on("status", on_status)
    client.connect(url, socketio_path="sockets", transports=["websocket"])
    rows = []
    try:
        for n in range(count):
            seen.clear()
            start = time.perf_counter()
            reply = client.call("order", {"product": f"item {n}"}, timeout=60)
            current["order_id"] = reply["order_id"]
            accepted = time.perf_counter()
            devnet.faucet(reply["address"], reply["price"])  # type: ignore[attr-defined]
            paid = time.perf_counter()
            deadline = time.monotonic() + 120
            while "waiting_for_order" not in seen:
                if time.monotonic() > deadline:
                    raise SystemExit(f"order {n} did not finish: {sorted(seen)}")
                changed.wait(0.5)
                changed.clear()
            rows.append(
                {
                    "pay (PoW)": paid - accepted,
                    "confirm": seen["payout_provider"] - paid,
                    "payout": seen["working"] - seen["payout_provider"],
                    "total": seen["waiting_for_order"] - start,
                }
            )
            print(f"order {n + 1}/{count}: {rows[-1]['total']:.2f} s", file=sys.stderr)
    finally:
        client.disconnect()
    return rows


def add_payout_split(rows: list[dict[str, float]], log_path: Path) -> None:
    """The robot logs how long asking the provider and signing+attaching took."""
    found = re.findall(r"event=provider_paid .*?ask_ms=(\d+) send_ms=(\d+)", log_path.read_text())
    for row, (ask_ms, send_ms) in zip(rows, found, strict=False):
        row["  ask provider"] = int(ask_ms) / 1000
        row["  sign+attach"] = int(send_ms) / 1000


def report(rows: list[dict[str, float]], args: argparse.Namespace) -> None:
    print(
        f"\norder latency over {len(rows)} orders "
        f"(milestone interval {args.milestone_interval} s, WORK_SECONDS=0)"
    )
    print(calibration_line())
    print(f"{'part':<12}{'p50 (s)':>10}{'p95 (s)':>10}{'mean (s)':>10}{'max (s)':>10}")
    for part in ("pay (PoW)", "confirm", "payout", "  ask provider", "  sign+attach", "total"):
        values = [row[part] for row in rows if part in row]
        if not values:
            continue
        print(
            f"{part:<12}{percentile(values, 0.5):>10.2f}{percentile(values, 0.95):>10.2f}"
            f"{statistics.fmean(values):>10.2f}{max(values):>10.2f}"
        )
    p50 = percentile([row["total"] for row in rows], 0.5)
    print(f"target p50 < 3 s: {'met' if p50 < 3 else 'NOT met'} ({p50:.2f} s)")


if __name__ == "__main__":
    main()
