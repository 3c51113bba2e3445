"""Fixtures for the API fuzz suite: one real devnet and one real lock controller per module.

Both services run as subprocesses on free ports with their data in pytest's temp dirs, so
parallel runs never collide. Hypothesis settings are fixed here (derandomized, bounded
examples, no deadline) so a CI run is reproducible: the same code fuzzes the same inputs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from tests.integration.lock.conftest import (
    ADMIN_PASSWORD,
    USERS,
    Controller,
    Processes,
    _acl,
)
from tests.support.devnet import DevnetProcess, devnet_fixture
from tests.support.mosquitto import MosquittoProcess, mosquitto_available

# FUZZ_EXAMPLES scales every fuzz test (e.g. FUZZ_EXAMPLES=10 for a deeper local run).
SCALE = max(1, int(os.environ.get("FUZZ_EXAMPLES", "1")))


def fuzz_settings(max_examples: int) -> Any:
    """Hypothesis settings for one fuzz test: reproducible, bounded, no per-example deadline."""
    return settings(
        max_examples=max_examples * SCALE,
        derandomize=True,
        deadline=None,
        database=None,  # a replayed example from an old run would make runs differ
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.function_scoped_fixture,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
        ],
        print_blob=True,
    )


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevnetProcess]:
    data_dir: Path = tmp_path_factory.mktemp("fuzz-devnet")
    with devnet_fixture(data_dir, milestone_interval=0.5) as node:
        yield node


@pytest.fixture(scope="module")
def lock_broker() -> Iterator[MosquittoProcess]:
    if not mosquitto_available():  # pragma: no cover - the dev image has it
        pytest.skip("mosquitto is not installed")
    with MosquittoProcess(users=USERS, acl=_acl()) as process:
        yield process


@pytest.fixture(scope="module")
def lock_controller(
    lock_broker: MosquittoProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Controller]:
    """A controller with one firmware device (2 locks), so checkouts can really succeed."""
    tmp = tmp_path_factory.mktemp("fuzz-lock")
    procs = Processes(lock_broker, tmp)
    try:
        procs.device("lock-a", locks=2)
        # A short timeout: fuzzed tools on devices that do not exist answer 504 quickly.
        yield procs.controller(COMMAND_TIMEOUT="0.3")
    finally:
        procs.stop_all()


__all__ = ["ADMIN_PASSWORD", "fuzz_settings"]
