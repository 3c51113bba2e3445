"""A devnet per test and a grid as a real process (``python -m services.grid``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.robot.machines import ServiceProcess, machine_env
from tests.support.devnet import DevnetProcess


@contextlib.contextmanager
def patient_devnet(data_dir: Path) -> Iterator[DevnetProcess]:
    """A devnet given three minutes to start: the shared machine is often very loaded."""
    process = DevnetProcess(data_dir, milestone_interval=0.5)
    try:
        process.start(timeout=180)
        yield process
    finally:
        try:
            process.stop()
        finally:
            process.kill()


@pytest.fixture
def devnet(tmp_path: Path) -> Iterator[DevnetProcess]:
    with patient_devnet(tmp_path / "devnet") as process:
        yield process


def grid_env(devnet: DevnetProcess, data_dir: Path, **extra: object) -> dict[str, str]:
    """Short slices and fast loops: a slice settles within about a second of its end."""
    settings = {
        "slice_seconds": 3,
        "settle_delay_seconds": 0.5,
        # The tests' producers quote only the slices they trade in, not every slice as a
        # producer service does: the slices without a quote are priced a second after
        # they end rather than after the default grace window of 30 s.
        "quote_grace_seconds": 1,
        "poll_seconds": 0.3,
        "payout_interval_seconds": 0.5,
        "payment_scan_seconds": 2,
        # request addresses swept 45 s after billing (time for the consumer to pay on a
        # loaded machine); the producers are paid from the swept money
        "payment_address_hold_seconds": 45,
        "grid_fee_percent": 20,
        "grid_default_price": 10,
        "min_weight_magnitude": devnet.mwm,
        "log_level": "INFO",
    }
    settings.update(extra)
    env = machine_env(devnet, "grid", data_dir, **settings)
    env.pop("POLL_INTERVAL", None)
    return env


@pytest.fixture
def grid_factory(tmp_path: Path) -> Iterator[list[ServiceProcess]]:
    started: list[ServiceProcess] = []
    yield started
    for process in started:
        process.kill()
