"""schemathesis with every check on the OpenAPI of each service without a fuzz module of its
own: robot, wind, solar, producer, consumer and the dashboard (the channel node is in
test_channels_fuzz.py).

One devnet for the module; each test starts its service(s) as real processes, fuzzes
the live ``/openapi.json`` with all checks (tests/integration/fuzz/openapi_checks.py:
no 5xx, every status declared, replies as declared, bad input refused with 4xx) and
checks the service is still healthy afterwards. The grid, lock, ledger and devnet runs
live in their own fuzz modules next to this one.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.fuzz.openapi_checks import run_all_checks
from tests.integration.robot.machines import ServiceProcess, machine_env
from tests.support.devnet import DevnetProcess, devnet_fixture, free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

TOKEN = secrets.token_hex(16)
# Seed 001's registration ids (trimmed, 8..n printable characters) and side keys (81
# trytes) are refused with the seed's own 400 {"success": false, "message"}: rules beyond
# what the path parameter's JSON Schema says, so a schema-valid id can still be refused.
# A machine's channel peer routes: a schema-valid proposal is refused (400 {"error"}) for
# what the schema cannot say: the proposer's key, its payout address, the deposit rules.
PEER_CREATE = {
    "positive_data_acceptance": lambda case: case.operation.path == "/channels/peer/create"
}
SEED_001_IDS = {
    "positive_data_acceptance": lambda case: case.operation.path.startswith("/registration/")
}


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevnetProcess]:
    with devnet_fixture(tmp_path_factory.mktemp("openapi-devnet"), milestone_interval=0.5) as dn:
        yield dn


def _healthy(url: str) -> None:
    assert httpx.get(url + "/health", timeout=30).status_code == 200


@contextlib.contextmanager
def _service(module: str, env: dict[str, str], data: Path) -> Iterator[ServiceProcess]:
    process = ServiceProcess(module, env, data).start(timeout=300)
    try:
        yield process
    finally:
        process.stop()


def test_robot_and_wind(node: DevnetProcess, tmp_path: Path) -> None:
    """The robot (seed 000 socket machine, its REST reads) and its provider (wind)."""
    wind_env = machine_env(node, "wind", tmp_path / "wind", machine_token=TOKEN, work_seconds=0.2)
    with _service("wind", wind_env, tmp_path / "wind") as wind:
        robot_env = machine_env(
            node, "robot 1", tmp_path / "robot", provider_url=wind.url, machine_token=TOKEN
        )
        with _service("robot", robot_env, tmp_path / "robot") as robot:
            run_all_checks(robot.url, positive=60, negative=40, exclude_where=PEER_CREATE)
            _healthy(robot.url)
        # with the machine token: the energy-order routes get past authentication
        run_all_checks(
            wind.url,
            positive=60,
            negative=40,
            headers={"Authorization": f"Bearer {TOKEN}"},
            exclude_where=PEER_CREATE,
        )
        _healthy(wind.url)


def test_solar(node: DevnetProcess, tmp_path: Path) -> None:
    env = machine_env(node, "solar", tmp_path / "solar", machine_token=TOKEN, work_seconds=0.2)
    with _service("solar", env, tmp_path / "solar") as solar:
        run_all_checks(
            solar.url,
            positive=40,
            negative=30,
            headers={"Authorization": f"Bearer {TOKEN}"},
            exclude_where=PEER_CREATE,
        )
        _healthy(solar.url)


def test_producer_and_consumer(node: DevnetProcess, tmp_path: Path) -> None:
    """Without a grid: the routes that talk to it must say so with a declared status."""
    grid = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    producer_env = machine_env(node, "producer", tmp_path / "producer", grid_url=grid)
    with _service("producer", producer_env, tmp_path / "producer") as producer:
        run_all_checks(producer.url, positive=60, negative=40, exclude_where=SEED_001_IDS)
        _healthy(producer.url)
    consumer_env = machine_env(node, "consumer", tmp_path / "consumer", grid_url=grid)
    with _service("consumer", consumer_env, tmp_path / "consumer") as consumer:
        run_all_checks(consumer.url, positive=40, negative=30, exclude_where=SEED_001_IDS)
        _healthy(consumer.url)


def test_dashboard(node: DevnetProcess, tmp_path: Path) -> None:
    env = {
        "PORT": str(free_port()),
        "HOST": "127.0.0.1",
        "MACHINES": json.dumps([]),
        "FAUCET_URL": node.api_url,
        "COLLECT_SECONDS": "1",
        "PAY_PER_MINUTE": "1000",
    }
    process = ServiceProcess("dashboard", env, tmp_path / "dashboard")
    process.start(timeout=120)
    try:

        def skip(case: Any) -> bool:
            # the SSE stream never ends by design: a request to it would only time out
            return bool(case.operation.path == "/api/stream")

        def faucet_busy(case: Any, status: int) -> bool:
            # documented: 503 with Retry-After while the devnet's faucet is busy
            return status == 503 and case.operation.path == "/api/pay"

        run_all_checks(
            process.url,
            positive=60,
            negative=40,
            skip=skip,
            allowed_5xx=faucet_busy,
            # Schema-valid but refused with 422 by design: a 90-tryte address's checksum,
            # PAY_LIMIT (a setting), an address the faucet refuses (spent from), a MAM root
            # with no channel. The schema says the shape; these answers name the reason.
            exclude_where={
                "positive_data_acceptance": lambda case: (
                    case.operation.path
                    in (
                        "/api/pay",
                        "/api/explorer/search",
                        "/api/explorer/address/{address}",
                        "/api/explorer/mam",
                    )
                )
            },
        )
        _healthy(process.url)
        # Regression: the faucet refusing the caller's address was a 502 (a server error).
        wrong_checksum = "A" * 81 + "AAAAAAAAA"
        reply = httpx.post(
            process.url + "/api/pay", json={"address": wrong_checksum, "value": 1}, timeout=60
        )
        assert reply.status_code == 422, reply.text
        assert "faucet refused" in reply.json()["detail"]
    finally:
        process.stop()
