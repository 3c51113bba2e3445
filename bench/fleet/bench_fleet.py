"""A fleet's cost: time to start N robots in one process, memory in total and per robot,
CPU at rest (a benchmark, not a test; docs/fleet.md has the figures).

Starts a devnet, then for each N (default 200 and 1000) a fleet of N robots
(``python -m services.fleet --kind robot --count N``), and prints:

  start      process launched -> the fleet's /health is 200 (every robot started)
  rss        the fleet process's resident memory, in total and per robot; "marginal" is
             (RSS(N) - RSS(1 robot)) / (N - 1): what one more robot costs
  idle cpu   the fleet's CPU time over --idle-seconds with no orders, as a share of one
             core (and the devnet's, for comparison); then the machine's load (uptime)

The robots' provider is an address nobody listens on: at rest a robot does not call it.
Run: uv run python bench/fleet/bench_fleet.py [--counts 200 1000] [--idle-seconds 60]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.calibration import calibration_line
from tests.support.devnet import DevnetProcess, devnet_fixture
from tests.support.fleet import FleetProcess

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes(pid: int) -> int:
    fields = Path(f"/proc/{pid}/statm").read_text().split()
    return int(fields[1]) * PAGE


def cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def idle_share(pid: int, seconds: float) -> float:
    before, started = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(pid) - before) / (time.monotonic() - started)


def measure(
    devnet: DevnetProcess, root: Path, count: int, idle_seconds: float, settle: float
) -> dict[str, float]:
    config = {"settings": {"provider_url": "http://127.0.0.1:9"}}
    fleet = FleetProcess("robot", count, devnet, root / f"robots-{count}", config=config)
    began = time.monotonic()
    fleet.start(timeout=900)
    started = time.monotonic() - began
    try:
        assert fleet.pid is not None and devnet.pid is not None
        time.sleep(settle)  # the start's garbage and first sweeps behind us
        rss = rss_bytes(fleet.pid)
        devnet_before = cpu_seconds(devnet.pid)
        idle = idle_share(fleet.pid, idle_seconds)
        devnet_idle = (cpu_seconds(devnet.pid) - devnet_before) / idle_seconds
        return {"count": count, "start": started, "rss": rss, "idle": idle, "devnet": devnet_idle}
    finally:
        fleet.stop(timeout=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--settle-seconds", type=float, default=10.0)
    parser.add_argument("--milestone-interval", type=float, default=1.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with devnet_fixture(root / "devnet", milestone_interval=args.milestone_interval) as dn:
            print(calibration_line())
            base = measure(dn, root, 1, min(args.idle_seconds, 20), args.settle_seconds)
            print(f"1 robot: start {base['start']:.1f} s, rss {base['rss'] / 2**20:.0f} MB")
            for count in args.counts:
                m = measure(dn, root, count, args.idle_seconds, args.settle_seconds)
                marginal = (m["rss"] - base["rss"]) / max(1, count - 1)
                print(
                    f"{count} robots: start {m['start']:.1f} s | rss {m['rss'] / 2**20:.0f} MB"
                    f" total, {m['rss'] / count / 2**20:.2f} MB per robot,"
                    f" {marginal / 2**20:.2f} MB marginal | idle cpu {m['idle'] * 100:.1f} %"
                    f" of a core (devnet {m['devnet'] * 100:.1f} %)"
                )
                print("  load:", os.getloadavg())
                sys.stdout.flush()


if __name__ == "__main__":
    main()
