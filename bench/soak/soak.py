"""Soak: the economy's processes under steady orders, payments and payouts at a fixed rate.

Starts a devnet (local snapshots on) and PAIRS robot/provider pairs as real processes, then
for DURATION seconds each robot gets one order every 60/RATE seconds over Socket.IO, paid
from the devnet faucet; each order ends with the robot paying its provider (a signed value
transfer) and working. Every SAMPLE seconds it records each process's resident memory and
each database's size (devnet: also its transaction rows). At the end it prints growth per
hour (least-squares slope over the samples after the warm-up), the errors, and the targets:

  memory      flat: each process grows by less than 10 % of its size per hour
  database    bounded with pruning on: once the first local snapshot is taken, the devnet's
              data in the second half of the run stays within 10 % of the first half's
              maximum; the machines' grow with their order history (a row per order)
  errors      zero: every order done, no refused order or payment, no ERROR/Traceback line
  audit       passes (docs/audit.md): every robot's and provider's books equal its wallet, and
              their wallets with the faucet hold the whole supply

Run:  uv run python bench/soak/soak.py [--duration 600] [--rate 6] [--pairs 2]
                                        [--milestone-interval 1] [--prune-depth 60]
The lock controller, Mosquitto and the firmware are not part of it (see docs/performance.md).
"""

from __future__ import annotations

import argparse
import secrets
import sqlite3
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import socketio

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.calibration import calibration_line
from shared.economy import EconomyAudit, render, wait_balanced
from tests.integration.robot.machines import ServiceProcess, machine_env
from tests.support.devnet import DevnetProcess

FINAL = {"done", "expired", "failed"}


@dataclass
class Counters:
    orders: int = 0
    done: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)


def rss_mb(pid: int | None) -> float:
    if pid is None:
        return float("nan")
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def db_mb(path: Path) -> float:
    """Data in the database (pages in use, as a reader sees it with the WAL applied): the
    files themselves only grow to their high-water mark and then reuse free pages."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
            pages = db.execute("pragma page_count").fetchone()[0]
            free = db.execute("pragma freelist_count").fetchone()[0]
            size = db.execute("pragma page_size").fetchone()[0]
        return float((pages - free) * size / 1e6)
    except sqlite3.Error:
        return float("nan")


def files_mb(path: Path) -> float:
    total = 0
    for suffix in ("", "-wal"):
        candidate = Path(str(path) + suffix)
        if candidate.exists():
            total += candidate.stat().st_size
    return total / 1e6


def tangle_rows(path: Path) -> int:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
            return int(db.execute("select count(*) from transactions").fetchone()[0])
    except sqlite3.Error:
        return -1


def slope_per_hour(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) pairs, per hour."""
    if len(samples) < 2:
        return float("nan")
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_v = sum(v for _, v in samples) / n
    var = sum((t - mean_t) ** 2 for t, _ in samples)
    if var == 0:
        return float("nan")
    cov = sum((t - mean_t) * (v - mean_v) for t, v in samples)
    return cov / var * 3600


def customer(
    robot: ServiceProcess,
    devnet: DevnetProcess,
    period: float,
    until: float,
    counters: Counters,
) -> None:
    """One customer per robot: an order every ``period`` seconds, paid from the faucet."""
    client = socketio.Client(reconnection=True)
    client.connect(robot.url, socketio_path="sockets", transports=["websocket"])
    http = httpx.Client(timeout=60)
    next_at = time.monotonic()
    try:
        while next_at < until:
            time.sleep(max(0.0, next_at - time.monotonic()))
            next_at += period
            started = time.monotonic()
            with counters.lock:
                counters.orders += 1
            try:
                reply = client.call("order", {"product": "soak"}, timeout=30)
            except Exception as error:
                counters.error(f"{robot.env['NAME']}: order call failed: {error!r}")
                continue
            if "error" in reply:
                counters.error(f"{robot.env['NAME']}: order refused: {reply['error']}")
                continue
            paid = http.post(
                devnet.api_url + "/faucet",
                json={"address": reply["address"], "value": reply["price"]},
            )
            if paid.status_code != 200:
                counters.error(f"faucet {paid.status_code}: {paid.text[:200]}")
                continue
            state = ""
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                state = http.get(f"{robot.url}/orders/{reply['order_id']}").json()["state"]
                if state in FINAL:
                    break
                time.sleep(0.25)
            if state == "done":
                with counters.lock:
                    counters.done += 1
                    counters.latencies.append(time.monotonic() - started)
            else:
                counters.error(f"{robot.env['NAME']}: order {reply['order_id']} ended {state!r}")
    finally:
        client.disconnect()
        http.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--duration", type=float, default=600, help="seconds of load")
    parser.add_argument("--rate", type=float, default=6, help="orders per minute per robot")
    parser.add_argument("--pairs", type=int, default=2, help="robot/provider pairs")
    parser.add_argument("--milestone-interval", type=float, default=1.0)
    parser.add_argument("--prune-depth", type=int, default=60)
    parser.add_argument("--prune-interval", type=float, default=15)
    parser.add_argument("--sample", type=float, default=10, help="seconds between samples")
    parser.add_argument("--warm-up", type=float, default=60, help="seconds not fitted")
    parser.add_argument("--start-timeout", type=float, default=300, help="per process")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        devnet = DevnetProcess(
            root / "devnet",
            milestone_interval=args.milestone_interval,
            extra_env={
                "DEVNET_PRUNE_DEPTH": str(args.prune_depth),
                "DEVNET_PRUNE_INTERVAL": str(args.prune_interval),
            },
        )
        devnet.start(timeout=args.start_timeout)
        processes: list[ServiceProcess] = []
        try:
            token = secrets.token_hex(16)
            robots: list[ServiceProcess] = []
            for n in range(1, args.pairs + 1):
                provider_env = machine_env(
                    devnet,
                    f"provider {n}",
                    root / f"provider{n}",
                    work_seconds=0.5,
                    machine_token=token,
                )
                provider = ServiceProcess("wind", provider_env, root / f"provider{n}")
                robot_env = machine_env(
                    devnet,
                    f"robot {n}",
                    root / f"robot{n}",
                    provider_url=provider.url,
                    work_seconds=1,
                    machine_token=token,
                )
                robot = ServiceProcess("robot", robot_env, root / f"robot{n}")
                processes += [provider, robot]
                robots.append(robot)
            # Started side by side (a busy machine needs a while to import and warm up).
            failures: list[BaseException] = []

            def start(process: ServiceProcess) -> None:
                try:
                    process.start(timeout=args.start_timeout)
                except BaseException as error:
                    failures.append(error)

            starters = [threading.Thread(target=start, args=(p,)) for p in processes]
            for thread in starters:
                thread.start()
            for thread in starters:
                thread.join()
            if failures:
                raise failures[0]
            names = ["devnet"] + [p.env["NAME"] for p in processes]
            pids = [devnet.pid] + [getattr(p, "_process").pid for p in processes]  # noqa: B009
            databases = {"devnet": root / "devnet" / "tangle.sqlite"}
            for process in processes:
                slug = process.env["NAME"].replace(" ", "-")
                databases[process.env["NAME"]] = Path(process.env["DATA_DIR"]) / f"{slug}.sqlite"

            counters = Counters()
            audit: EconomyAudit | None = None
            started = time.monotonic()
            until = started + args.duration
            customers = [
                threading.Thread(
                    target=customer,
                    args=(robot, devnet, 60 / args.rate, until, counters),
                    daemon=True,
                )
                for robot in robots
            ]
            for thread in customers:
                thread.start()
            memory: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
            sizes: dict[str, list[tuple[float, float]]] = {name: [] for name in databases}
            rows: list[tuple[float, float]] = []
            first_snapshot: float | None = None
            print(f"soak: {args.duration:.0f}s, {args.rate:g} orders/min x {args.pairs} robots")
            while time.monotonic() < until:
                time.sleep(args.sample)
                t = time.monotonic() - started
                for name, pid in zip(names, pids, strict=True):
                    memory[name].append((t, rss_mb(pid)))
                for name, path in databases.items():
                    sizes[name].append((t, db_mb(path)))
                rows.append((t, tangle_rows(databases["devnet"])))
                health = httpx.get(devnet.api_url + "/health", timeout=10).json()
                if first_snapshot is None and health.get("lastSnapshottedMilestoneIndex"):
                    first_snapshot = t
                print(
                    f"  t={t:5.0f}s orders={counters.orders} done={counters.done} "
                    f"errors={len(counters.errors)} devnet_rss={memory['devnet'][-1][1]:.0f}MB "
                    f"devnet_db={sizes['devnet'][-1][1]:.2f}MB rows={rows[-1][1]:.0f}",
                    flush=True,
                )
            for thread in customers:
                thread.join(150)
            # Every token accounted for (docs/audit.md): books == wallet for every robot and
            # provider, and their wallets with the faucet hold the whole supply.
            audit = wait_balanced(devnet.api_url, [p.url for p in processes], timeout=180)
            for process in [*processes]:
                for line in process.log_path.read_text(errors="replace").splitlines():
                    if "level=ERROR" in line or "Traceback" in line:
                        counters.error(f"{process.env['NAME']} log: {line[:160]}")
            for line in devnet.log_path.read_text(errors="replace").splitlines():
                if "level=ERROR" in line or "Traceback" in line:
                    counters.error(f"devnet log: {line[:160]}")
        finally:
            for process in reversed(processes):
                process.stop()
            devnet.stop()
            devnet.kill()

        def fitted(series: list[tuple[float, float]], after: float) -> list[tuple[float, float]]:
            return [(t, v) for t, v in series if t >= after]

        print()
        print(f"orders {counters.orders}, done {counters.done}, errors {len(counters.errors)}")
        if counters.latencies:
            ordered = sorted(counters.latencies)
            print(
                f"order -> done: median {ordered[len(ordered) // 2]:.1f}s, max {ordered[-1]:.1f}s"
            )
        print()
        print(f"{'process':<12} {'RSS start MB':>12} {'RSS end MB':>10} {'MB/hour':>8}  target")
        memory_ok = True
        for name in names:
            series = fitted(memory[name], args.warm_up)
            slope = slope_per_hour(series)
            end = memory[name][-1][1] if memory[name] else float("nan")
            ok = slope < 0.10 * end
            memory_ok &= ok
            begin = series[0][1] if series else float("nan")
            print(
                f"{name:<12} {begin:>12.0f} {end:>10.0f} {slope:>8.1f}  "
                f"< {0.10 * end:.0f} {'ok' if ok else 'MISSED'}"
            )
        print()
        print(f"{'data in use':<12} {'MB start':>9} {'MB end':>8} {'MB/hour':>8}  target")
        db_ok = True
        for name, series in sizes.items():
            after = max(args.warm_up, first_snapshot or args.duration) if name == "devnet" else 0
            part = fitted(series, after)
            slope = slope_per_hour(part)
            end = series[-1][1] if series else float("nan")
            if name == "devnet":
                half = len(part) // 2
                first = max((v for _, v in part[:half]), default=float("nan"))
                second = max((v for _, v in part[half:]), default=float("nan"))
                ok = half > 0 and second <= 1.10 * first
                db_ok &= ok
                verdict = (
                    f"bounded: max {second:.2f} in the 2nd half <= 1.1 x {first:.2f} "
                    f"{'ok' if ok else 'MISSED'}"
                )
            else:
                verdict = "grows with the order history"
            print(f"{name:<12} {series[0][1]:>9.2f} {end:>8.2f} {slope:>8.2f}  {verdict}")
        devnet_files = files_mb(databases["devnet"])
        print(f"devnet files (database + WAL) at the end: {devnet_files:.2f} MB")
        after = max(args.warm_up, first_snapshot or args.duration)
        print(
            f"devnet transaction rows: {rows[-1][1]:.0f} at the end, "
            f"{slope_per_hour(fitted(rows, after)):.0f} rows/hour after the first snapshot"
        )
        print()
        print(f"errors: {len(counters.errors)} (target 0)")
        for text in counters.errors[:20]:
            print(f"  {text}")
        print()
        print(render(audit, color=sys.stdout.isatty()) if audit else "economy audit: not run")
        met = memory_ok and db_ok and not counters.errors and audit is not None and audit.passed
        print(calibration_line())
        print(f"\nresult: {'all targets met' if met else 'targets MISSED'}")


if __name__ == "__main__":
    main()
