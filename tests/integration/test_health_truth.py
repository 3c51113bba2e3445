"""Health that tells the truth (issue 20): a dependency that hangs turns ``/health`` to 503
naming it within 10 s, and the service recovers to 200 on its own when it answers again.

Everything is a real process (tests/support): a devnet, Mosquitto, ledger participants,
and the services as ``python -m services.<name>``. A dependency "hangs" by SIGSTOP: its
sockets stay open and nothing answers, which is what a stuck process or a lost network
looks like (a closed port would be noticed at once by anyone).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shared.mqtt.acl import render_acl
from tests.integration.energy.parties import economy_specs, patient_devnet, start_all
from tests.integration.robot.machines import machine_env
from tests.support.channels import ChannelProcess
from tests.support.ledger import LedgerCluster
from tests.support.mosquitto import MosquittoProcess, mosquitto_available
from tests.support.process import ManagedProcess, free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1200)]

# Issue 20 asks for 503 within 10 s; the probes give 5 s (2 s apart, 3 s each). The
# pollers below run in threads of this process on a loaded 2-core machine: one poll may
# itself take a second, which the 10 s bound leaves room for.
TURN_WITHIN = 10.0
# Back to 200: the first good probe (<= 2 s), plus any background task that crashed
# against the hung dependency restarting with its backoff.
RECOVER_WITHIN = 60.0


def health(url: str) -> tuple[int, dict[str, object]]:
    try:
        reply = httpx.get(url + "/health", timeout=3)
    except httpx.HTTPError as error:
        return 0, {"error": type(error).__name__}
    return reply.status_code, reply.json()


def watch_until(urls: dict[str, str], predicate: object, timeout: float) -> dict[str, float | None]:
    """Poll every service's /health in its own thread until ``predicate(status, body)``;
    the seconds each took (None: never within ``timeout``)."""
    started = time.monotonic()
    took: dict[str, float | None] = {}
    last: dict[str, object] = {}

    def poll(name: str, url: str) -> None:
        while time.monotonic() - started < timeout:
            status, body = health(url)
            last[name] = (status, body)
            if predicate(status, body):  # type: ignore[operator]
                took[name] = time.monotonic() - started
                return
            time.sleep(0.25)
        took[name] = None

    threads = [threading.Thread(target=poll, args=item) for item in urls.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout + 10)
    missing = {name: last.get(name) for name, value in took.items() if value is None}
    assert not missing, f"not within {timeout}s: {missing} (took: {took})"
    return took


def names(dependency: str) -> object:
    def predicate(status: int, body: dict[str, object]) -> bool:
        down = body.get("down")
        return status == 503 and isinstance(down, dict) and dependency in down

    return predicate


def healthy(status: int, body: dict[str, object]) -> bool:
    return status == 200 and body.get("status") == "ok"


@contextlib.contextmanager
def stopped(pid: int) -> Iterator[None]:
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def test_a_hung_devnet_turns_every_dependent_service_to_503_and_back(tmp_path: Path) -> None:
    with contextlib.ExitStack() as stack:
        devnet = stack.enter_context(patient_devnet(tmp_path / "devnet"))
        specs = economy_specs(devnet, tmp_path, "health-probe-token-0123456789", slice_seconds=5)
        robot_env = machine_env(devnet, "robot", tmp_path / "robot")
        specs.append(("robot", robot_env, tmp_path / "robot"))
        processes = start_all(specs, stack)
        channel = ChannelProcess("channels", devnet, tmp_path / "channels")
        stack.callback(channel.stop)
        channel.start()
        urls = {process.module: process.url for process in processes}
        urls["channels"] = channel.url
        assert set(urls) == {"grid", "producer", "wind", "solar", "consumer", "robot", "channels"}
        watch_until(urls, healthy, RECOVER_WITHIN)
        assert devnet.pid is not None
        with stopped(devnet.pid):
            turned = watch_until(urls, names("devnet"), TURN_WITHIN)
        recovered = watch_until(urls, healthy, RECOVER_WITHIN)
        # the node answers again: so does every service's /
        for url in urls.values():
            index = httpx.get(url + "/", timeout=5).json()
            assert {"name", "status"} <= set(index)
        print("turned 503 after", turned, "recovered after", recovered)


@pytest.mark.skipif(not mosquitto_available(), reason="Debian's mosquitto is not installed")
def test_a_hung_broker_turns_the_locks_health_to_503_and_back(tmp_path: Path) -> None:
    users = {"lock-controller": "controller-pw"}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with MosquittoProcess(users=users, acl=render_acl("health")) as broker:
        env = {
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "DATA_DIR": str(tmp_path / "data"),
            "MQTT_URL": broker.url("lock-controller", users["lock-controller"]),
            "MQTT_PREFIX": "health",
            "LOCK_ADMIN_USERNAME": "admin",
            "LOCK_ADMIN_PASSWORD": "admin-password-1",
        }
        lock = ManagedProcess(
            "lock", ["-m", "services.lock"], env=env, log_path=tmp_path / "lock.log"
        )
        try:
            lock.start(lambda: None if healthy(*health(url)) else "starting")
            assert broker.process is not None
            with stopped(broker.process.pid):
                watch_until({"lock": url}, names("mqtt"), TURN_WITHIN)
            watch_until({"lock": url}, healthy, RECOVER_WITHIN)
        finally:
            lock.stop()


def test_a_hung_peer_turns_a_ledger_participants_health_to_503_and_back(
    tmp_path: Path,
) -> None:
    with LedgerCluster(tmp_path, ["a", "b", "c"]) as cluster:
        urls = {name: cluster.url(name) for name in ("a", "b")}
        watch_until(urls, healthy, RECOVER_WITHIN)
        with stopped(cluster.procs["c"].pid):
            watch_until(urls, names("peer:c"), TURN_WITHIN)
        watch_until(urls, healthy, RECOVER_WITHIN)
