"""Real Mosquitto (password file + ACL), lock devices and the lock controller as processes."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from shared.mqtt.acl import render_acl
from shared.mqtt.client import set_no_delay
from shared.mqtt.codec import decode
from tests.support.channels import ChannelProcess
from tests.support.devnet import DevnetProcess
from tests.support.mosquitto import MosquittoProcess, free_port, mosquitto_available

PREFIX = "test-economy"
ROOT = Path(__file__).resolve().parents[3]
USERS = {
    "lock-controller": "controller-pw",
    "lock-a": "device-a-pw",
    "lock-b": "device-b-pw",
    "laser1": "laser1-pw",  # a device with a prefix of its own choosing (test_seed_topics)
    "observer": "observer-pw",
}
ADMIN_PASSWORD = "admin-password-1"

if not mosquitto_available():  # pragma: no cover - the dev image has it
    pytest.skip("mosquitto is not installed", allow_module_level=True)


def _acl() -> str:
    # The production ACL plus a read-only observer the tests watch the wire with.
    return render_acl(PREFIX) + f"\nuser observer\ntopic read {PREFIX}/#\n"


@pytest.fixture
def broker() -> Iterator[MosquittoProcess]:
    with MosquittoProcess(users=USERS, acl=_acl()) as process:
        yield process


class Observer:
    """A paho client that records every message under the prefix."""

    def __init__(self, broker: MosquittoProcess, user: str = "observer") -> None:
        self.messages: queue.Queue[tuple[str, bytes, bool]] = queue.Queue()
        self.seen: list[tuple[str, bytes, bool]] = []
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"obs-{time.time_ns()}")
        self.client.username_pw_set(user, USERS[user])
        self.client.on_socket_open = set_no_delay
        self.client.on_message = lambda c, u, m: self.messages.put(
            (m.topic, bytes(m.payload), bool(m.retain))
        )
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(f"{PREFIX}/#", 1)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def wait_for(
        self, topic: str, predicate: Callable[[bytes], bool] = lambda _: True, timeout: float = 5
    ) -> bytes:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"nothing matching on {topic}; saw {self.seen[-20:]}")
            try:
                item = self.messages.get(timeout=remaining)
            except queue.Empty:
                continue
            self.seen.append(item)
            if item[0] == topic and predicate(item[1]):
                return item[1]

    def wait_latest(
        self, topic: str, predicate: Callable[[bytes], bool] = lambda _: True, timeout: float = 10
    ) -> bytes:
        """Like wait_for, but an already-seen latest value on topic also counts."""
        latest = [payload for t, payload, _ in self.seen if t == topic]
        if latest and predicate(latest[-1]):
            return latest[-1]
        return self.wait_for(topic, predicate, timeout)

    def drain(self, seconds: float = 0.3) -> list[tuple[str, bytes, bool]]:
        """Everything that arrives within seconds."""
        got = []
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                got.append(self.messages.get(timeout=remaining))
            except queue.Empty:
                break
        self.seen.extend(got)
        return got

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def state_is(state: str, request: str | None = None) -> Callable[[bytes], bool]:
    def check(payload: bytes) -> bool:
        fields = decode(payload)
        return fields.get("state") == state and (
            request is None or fields.get("request") == request
        )

    return check


@pytest.fixture
def observer(broker: MosquittoProcess) -> Iterator[Observer]:
    obs = Observer(broker)
    yield obs
    obs.close()


class Processes:
    """Starts firmware devices and lock controllers; stops every one at teardown."""

    def __init__(self, broker: MosquittoProcess, tmp: Path) -> None:
        self.broker = broker
        self.tmp = tmp
        self.procs: list[subprocess.Popen[bytes]] = []

    def _spawn(self, module: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
        full = {k: v for k, v in os.environ.items() if not k.startswith(("MQTT_", "DEVICE_"))}
        full.update(env)
        full["PYTHONPATH"] = str(ROOT)
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", module], env=full, cwd=ROOT, stdout=out, stderr=out
            )
        self.procs.append(proc)
        return proc

    def device(
        self, device_id: str = "lock-a", locks: int = 2, **env: str
    ) -> subprocess.Popen[bytes]:
        base = {
            "MQTT_URL": self.broker.url(device_id, USERS[device_id]),
            "MQTT_PREFIX": f"{PREFIX}/{device_id}",
            "DEVICE_ID": device_id,
            "DEVICE_LOCKS": str(locks),
        }
        return self._spawn("firmware", base | env, self.tmp / f"{device_id}.log")

    def controller(
        self, data_dir: Path | None = None, ready_timeout: float = 120, **env: str
    ) -> Controller:
        port = int(env.get("PORT") or free_port())  # a restart may keep its port
        base = {
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "DATA_DIR": str(data_dir or self.tmp / "lock-data"),
            "MQTT_URL": self.broker.url("lock-controller", USERS["lock-controller"]),
            "MQTT_PREFIX": PREFIX,
            "LOCK_ADMIN_USERNAME": "admin",
            "LOCK_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "COMMAND_TIMEOUT": "2",
        }
        log = self.tmp / "controller.log"
        proc = self._spawn("services.lock", base | env, log)
        controller = Controller(proc, f"http://127.0.0.1:{port}", log)
        controller.wait_ready(ready_timeout)
        return controller

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


class Controller:
    """A running lock controller and an HTTP client with the admin's bearer token."""

    def __init__(self, proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.proc = proc
        self.url = url
        self.log = log
        self.http = httpx.Client(base_url=url, timeout=10)
        self.admin_token = ""

    def wait_ready(self, timeout: float = 120) -> None:
        # Generous: under a load of 30+ on the shared 2-core machine 20 s was not enough.
        # A controller that fails to start still fails fast (the exit check below).
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"controller exited:\n{self.log.read_text()}")
            try:
                health = self.http.get("/health")
                if health.status_code == 200 and health.json()["broker_connected"]:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        else:
            raise AssertionError(f"controller not ready:\n{self.log.read_text()}")
        self.admin_token = self.token("admin", ADMIN_PASSWORD)

    def token(self, username: str, password: str) -> str:
        reply = self.http.post("/auth/token", auth=(username, password))
        assert reply.status_code == 200, reply.text
        return str(reply.json()["access_token"])

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        reply = self.http.request(
            method, path, headers={"Authorization": f"Bearer {self.admin_token}"}, **kwargs
        )
        assert reply.status_code in (200, 201, 202), reply.text
        return reply.json()

    def as_user(self, token: str, method: str, path: str) -> httpx.Response:
        return self.http.request(method, path, headers={"Authorization": f"Bearer {token}"})

    def member(self, username: str, circles: list[int], membership: bool = True) -> str:
        """Create an account in circles (with a membership) and return its bearer token."""
        account = self.admin(
            "POST", "/accounts", json={"username": username, "password": "pw-" * 4}
        )
        for circle in circles:
            self.admin("POST", f"/circles/{circle}/members", json={"account_id": account["id"]})
        if membership:
            self.admin("POST", f"/accounts/{account['id']}/memberships", json={"days": 30})
        return self.token(username, "pw-" * 4)

    def tool_state(self, tool_id: int) -> dict[str, Any]:
        return dict(self.http.get(f"/tools/{tool_id}").json())

    def wait_tool(
        self, tool_id: int, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        state: dict[str, Any] = {}
        while time.monotonic() < deadline:
            state = self.tool_state(tool_id)
            if predicate(state):
                return state
            time.sleep(0.05)
        raise AssertionError(f"tool {tool_id} never matched; last {state}")


# Pay-per-use (issue 23): a devnet per module (slow to start) and a funded payer per test.
@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevnetProcess]:
    node = DevnetProcess(tmp_path_factory.mktemp("devnet"), milestone_interval=0.5)
    node.start(timeout=600)  # generous: the shared machine is often loaded
    try:
        yield node
    finally:
        try:
            node.stop()
        finally:
            node.kill()


@pytest.fixture
def payer(devnet: DevnetProcess, tmp_path: Path) -> Iterator[ChannelProcess]:
    node = ChannelProcess("payer", devnet, tmp_path / "payer")
    node.start(timeout=600)
    try:
        node.fund(1000)
        yield node
    finally:
        node.__exit__(None, None, None)


@pytest.fixture
def processes(broker: MosquittoProcess, tmp_path: Path) -> Iterator[Processes]:
    procs = Processes(broker, tmp_path)
    yield procs
    procs.stop_all()
