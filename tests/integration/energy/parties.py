"""Start several energy services at once as real processes (integration and e2e tests,
and bench/grid's payout latency)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.integration.robot.machines import ServiceProcess, machine_env
from tests.support.devnet import DevnetProcess

__all__ = ["economy_specs", "patient_devnet", "start_all"]


def economy_specs(
    devnet: DevnetProcess,
    data_dir: Path,
    token: str,
    *,
    slice_seconds: float,
    grid: dict[str, Any] | None = None,
    consumer: dict[str, Any] | None = None,
) -> list[tuple[str, dict[str, str], Path]]:
    """The seed-001 economy for :func:`start_all`: grid, producer, wind and solar as its
    sources, and one consumer that tops itself up from the devnet's faucet (in this
    order). ``grid`` and ``consumer`` override their settings."""
    common = {"slice_seconds": slice_seconds, "min_weight_magnitude": devnet.mwm}
    grid_settings: dict[str, Any] = {
        "settle_delay_seconds": 1,
        "poll_seconds": 0.5,
        "payout_interval_seconds": 0.5,
        "payment_scan_seconds": 2,
        # request addresses swept 45 s after billing: producers paid soon after
        "payment_address_hold_seconds": 45,
        "grid_fee_percent": 20,
        **(grid or {}),
    }
    grid_env = machine_env(devnet, "grid", data_dir / "grid", **grid_settings, **common)
    grid_url = f"http://127.0.0.1:{grid_env['PORT']}"
    producer_env = machine_env(
        devnet,
        "producer",
        data_dir / "producer",
        grid_url=grid_url,
        producer_price=1000,
        poll_seconds=0.5,
        **common,
    )
    producer_url = f"http://127.0.0.1:{producer_env['PORT']}"
    specs = [
        ("grid", grid_env, data_dir / "grid"),
        ("producer", producer_env, data_dir / "producer"),
    ]
    for kind in ("wind", "solar"):
        env = machine_env(
            devnet,
            kind,
            data_dir / kind,
            producer_url=producer_url,
            machine_token=token,
            time_scale=360,
            sim_start_hour=10,
            sim_seed=7,
            **common,
        )
        specs.append((kind, env, data_dir / kind))
    consumer_settings: dict[str, Any] = {
        "grid_url": grid_url,
        "faucet_url": devnet.api_url,
        "faucet_amount": 1_000_000,
        "faucet_interval": 5,
        "profile": "family",
        "load_scale": 3,
        "time_scale": 360,
        "sim_start_hour": 10,
        "poll_seconds": 0.5,
        **(consumer or {}),
    }
    consumer_env = machine_env(
        devnet, "consumer", data_dir / "consumer", **consumer_settings, **common
    )
    specs.append(("consumer", consumer_env, data_dir / "consumer"))
    return specs


@contextlib.contextmanager
def patient_devnet(data_dir: Path) -> Iterator[DevnetProcess]:
    """A devnet with fast milestones and MWM 1 (proof of work costs nothing, so a busy
    machine keeps up with short slices), given minutes to start on a loaded machine."""
    devnet = DevnetProcess(data_dir, milestone_interval=0.5, mwm=1)
    devnet.start(timeout=300)
    try:
        yield devnet
    finally:
        devnet.stop()


def start_all(
    specs: list[tuple[str, dict[str, str], Path]],
    stack: contextlib.ExitStack,
    timeout: float = 600,
) -> list[ServiceProcess]:
    """Start every ``(module, env, data_dir)`` together and wait until each is healthy.

    The services retry whatever they need from each other (registration, hello), so the
    order does not matter; starting together saves minutes on a busy machine. Each is
    stopped when ``stack`` closes.
    """
    processes = [ServiceProcess(module, env, data) for module, env, data in specs]
    for process in processes:
        stack.callback(process.stop)
    with ThreadPoolExecutor(len(processes)) as pool:
        list(pool.map(lambda process: process.start(timeout=timeout), processes))
    return processes
