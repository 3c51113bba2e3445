"""Start several energy services at once as real processes (integration and e2e tests)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.integration.robot.machines import ServiceProcess
from tests.support.devnet import DevnetProcess

__all__ = ["patient_devnet", "start_all"]


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
