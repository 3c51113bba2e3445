"""The same compose file on Docker Swarm, really deployed (docs/docker.md, "Docker Swarm").

On a single-node swarm that the module creates (and leaves): `docker stack deploy -c
docker-compose.yml -c docker-stack.yml` with Docker secrets made by deploy/init-secrets.sh;
every service becomes healthy; a demo order is paid and finishes; a checkout unlocks the lock
device; `docker service scale` runs two dashboards that both serve; a robot task killed with
SIGKILL is rescheduled and has lost nothing; `docker stack rm` and `docker swarm leave` leave
nothing behind. Skipped, with the reason, where no Docker engine (or Compose to build the
image) is present. One stack per module; tests run in file order and share it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
import pytest
import yaml

from tests.e2e.conftest import (
    COMPOSE_FILE,
    INIT_SECRETS,
    REPO_ROOT,
    STACK_FILE,
    ComposeStack,
    json_of,
    stack_env,
)
from tests.e2e.test_compose import FLOW, Customer, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.docker, pytest.mark.timeout(1500)]

IRI_HEADERS = {"X-IOTA-API-Version": "1"}
STATEFUL = {
    "devnet",
    "mosquitto",
    "wind",
    "solar",
    "robot-1",
    "robot-2",
    "lock",
    "grid",
    "producer",
    "consumer-1",
    "consumer-2",
    "battery",
    "ledger-grid",
    "ledger-producer",
    "ledger-consumer",
}
STATELESS = {"lock-device", "dashboard"}


def _run(args: list[str], timeout: float = 120, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, capture_output=True, text=True, timeout=timeout, check=False, **kwargs
    )


def _checked(args: list[str], timeout: float = 120, **kwargs: Any) -> str:
    result = _run(args, timeout, **kwargs)
    assert result.returncode == 0, f"{' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def swarm_state() -> str:
    return _run(["docker", "info", "--format", "{{.Swarm.LocalNodeState}}"]).stdout.strip()


class SwarmStack:
    """One `docker stack deploy` of docker-compose.yml + docker-stack.yml under a unique name."""

    def __init__(self, directory: Path) -> None:
        self.name = f"me2e{uuid.uuid4().hex[:8]}"
        self.secrets_dir = directory / "secrets"
        _checked(["sh", str(INIT_SECRETS), str(self.secrets_dir)])
        self.env = stack_env(DASHBOARD_HOST_PORT="0")  # a free host port per dashboard task
        self.env.update(SECRETS_DIR=str(self.secrets_dir))

    def secret(self, name: str) -> str:
        return (self.secrets_dir / name).read_text()

    def config(self) -> dict[str, Any]:
        out = _checked(
            ["docker", "stack", "config", "-c", str(COMPOSE_FILE), "-c", str(STACK_FILE)],
            cwd=REPO_ROOT,
            env=self._environ(),
        )
        config: dict[str, Any] = yaml.safe_load(out)
        return config

    def _environ(self) -> dict[str, str]:
        return {**os.environ, **self.env}

    def deploy(self) -> None:
        _checked(
            [
                "docker",
                "stack",
                "deploy",
                "--detach=true",
                # the image is local (built here); never ask a registry for its digest
                "--resolve-image=never",
                "-c",
                str(COMPOSE_FILE),
                "-c",
                str(STACK_FILE),
                self.name,
            ],
            timeout=300,
            cwd=REPO_ROOT,
            env=self._environ(),
        )

    def containers(self, service: str | None = None) -> list[dict[str, Any]]:
        """`docker inspect` of the running containers of the stack (or of one service)."""
        label = f"com.docker.stack.namespace={self.name}"
        args = ["docker", "ps", "-q", "--filter", f"label={label}"]
        if service is not None:
            args += ["--filter", f"label=com.docker.swarm.service.name={self.name}_{service}"]
        ids = _run(args).stdout.split()
        if not ids:
            return []
        items: list[dict[str, Any]] = json.loads(_run(["docker", "inspect", *ids]).stdout or "[]")
        return items

    def healthy(self, service: str) -> list[dict[str, Any]]:
        return [
            c
            for c in self.containers(service)
            if (c["State"].get("Health") or {}).get("Status") == "healthy"
        ]

    def wait_healthy(self, replicas: dict[str, int], timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        counts: dict[str, int] = {}
        while time.monotonic() < deadline:
            counts = {s: len(self.healthy(s)) for s in replicas}
            if counts == replicas:
                return
            time.sleep(2)
        raise AssertionError(f"not healthy after {timeout:.0f} s: {counts}\n{self.diagnose()}")

    def diagnose(self) -> str:
        tasks = _run(
            [
                "docker",
                "stack",
                "ps",
                "--no-trunc",
                "--format",
                "{{.Name}} {{.CurrentState}} {{.Error}}",
                self.name,
            ]
        ).stdout
        logs = []
        for service in sorted(STATEFUL | STATELESS):
            out = _run(["docker", "service", "logs", "--tail", "15", f"{self.name}_{service}"])
            logs.append(f"-- {service}\n{out.stdout[-1500:]}{out.stderr[-500:]}")
        return tasks + "\n".join(logs)

    def url(self, port_variable: str, path: str = "") -> str:
        return f"http://127.0.0.1:{self.env[port_variable]}{path}"

    def dashboard_urls(self) -> list[str]:
        """One URL per healthy dashboard task: each publishes on its own free host port."""
        urls = []
        for container in self.healthy("dashboard"):
            bindings = container["NetworkSettings"]["Ports"].get("8000/tcp") or []
            urls += [f"http://127.0.0.1:{b['HostPort']}" for b in bindings[:1]]
        return urls

    def remove(self) -> None:
        """`docker stack rm`, then the stack's volumes once its containers are gone."""
        _run(["docker", "stack", "rm", self.name], timeout=120)
        label = f"label=com.docker.stack.namespace={self.name}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            left = _run(["docker", "ps", "-aq", "--filter", label]).stdout.split()
            networks = _run(["docker", "network", "ls", "-q", "--filter", label]).stdout.split()
            if not left and not networks:
                break
            time.sleep(1)
        volumes = _run(["docker", "volume", "ls", "-q", "--filter", label]).stdout.split()
        if volumes:
            _run(["docker", "volume", "rm", *volumes], timeout=60)


@pytest.fixture(scope="module")
def swarm(docker_ready: None) -> Iterator[bool]:
    """A single-node swarm: True if this module created it (and so leaves it at the end)."""
    state = swarm_state()
    if state not in ("inactive", "active"):
        pytest.skip(f"this Docker engine cannot run a swarm (state {state!r})")
    created = state == "inactive"
    # `swarm init` makes the bridge docker_gwbridge and `swarm leave` keeps it: remove ours.
    had_bridge = _run(["docker", "network", "inspect", "docker_gwbridge"]).returncode == 0
    if created:
        _checked(["docker", "swarm", "init", "--advertise-addr", "127.0.0.1"], timeout=120)
    try:
        yield created
    finally:
        if created:
            _run(["docker", "swarm", "leave", "--force"], timeout=120)
            if not had_bridge:
                _run(["docker", "network", "rm", "docker_gwbridge"], timeout=60)


@pytest.fixture(scope="module")
def swarm_stack(swarm: bool, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SwarmStack]:
    directory = tmp_path_factory.mktemp("swarm")
    # The image: built as compose builds it (Swarm never builds).
    ComposeStack(directory / "build", stack_env()).run("build", "devnet", timeout=1200)
    stack = SwarmStack(directory)
    try:
        stack.deploy()
        stack.wait_healthy({s: 1 for s in STATEFUL | STATELESS})
        yield stack
    except BaseException:
        print(stack.diagnose())
        raise
    finally:
        stack.remove()


def iri(stack: SwarmStack, command: str, **params: Any) -> dict[str, Any]:
    reply = httpx.post(
        stack.url("DEVNET_HOST_PORT"),
        json={"command": command, **params},
        headers=IRI_HEADERS,
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    result: dict[str, Any] = reply.json()
    return result


def robot_health(stack: SwarmStack) -> dict[str, Any] | None:
    try:
        reply = httpx.get(stack.url("ROBOT1_HOST_PORT", "/health"), timeout=5)
    except httpx.HTTPError:
        return None
    return json_of(reply) if reply.status_code == 200 else None


# -- the files ---------------------------------------------------------------------------------
def test_stack_files_give_every_service_dnsrr_host_ports_and_its_secrets(
    docker_ready: None, tmp_path: Path
) -> None:
    """`docker stack config` of both files: what PROTOCOLS.md section 9 says Swarm needs here."""
    stack = SwarmStack(tmp_path)
    config = stack.config()
    services = config["services"]
    assert set(services) == STATEFUL | STATELESS
    for name, service in services.items():
        assert service["deploy"]["endpoint_mode"] == "dnsrr", name
        assert all(p["mode"] == "host" for p in service.get("ports", [])), name
        assert all(
            v["type"] != "volume" or v["target"].startswith("/") for v in service.get("volumes", [])
        ), name
        constraints = (service["deploy"].get("placement") or {}).get("constraints") or []
        assert (name in STATEFUL) == ("node.role == manager" in constraints), name
        secrets = {s["source"] for s in service.get("secrets", [])}
        # every secret file a service reads (through *_FILE, or named inside a value like
        # the ledger's participant list) is a Docker secret it is given
        wanted = {
            name
            for value in (service.get("environment") or {}).values()
            for name in re.findall(r"/run/secrets/([A-Za-z0-9_]+)", str(value or ""))
        }
        assert wanted == secrets, name
        assert set(secrets) <= set(config["secrets"]), name


# -- the deployed stack ------------------------------------------------------------------------
def test_every_service_is_healthy_on_the_swarm(swarm_stack: SwarmStack) -> None:
    for service in STATEFUL | STATELESS:
        containers = swarm_stack.healthy(service)
        assert len(containers) == 1, service
    # the secrets are Docker secrets, not environment values
    robot = swarm_stack.containers("robot-1")[0]
    mounts = _checked(["docker", "exec", robot["Id"], "ls", "/run/secrets"]).split()
    assert sorted(mounts) == ["machine_token", "robot1_seed"]
    seed = swarm_stack.secret("robot1_seed")
    assert seed not in json.dumps(robot["Config"]["Env"])


def test_order_is_paid_and_finishes(swarm_stack: SwarmStack) -> None:
    who = Customer(swarm_stack.url("ROBOT1_HOST_PORT"))
    try:
        wait_for(lambda: any(e == "welcome" for e, _ in who.events), 30, "welcome")
        reply: dict[str, Any] = who.client.call("order", {"product": "headphones"}, timeout=60)
        assert "error" not in reply, reply
        order_id = reply["order_id"]
        # the demo page's way: a dashboard (any replica) asks the faucet to pay the robot
        dashboard = swarm_stack.dashboard_urls()[0]
        paid = httpx.post(
            f"{dashboard}/api/pay",
            json={"address": reply["address"], "value": reply["price"]},
            timeout=90,
        )
        assert paid.status_code == 200, paid.text
        wait_for(
            lambda: who.statuses(order_id)[-1:] == ["waiting_for_order"], 180, "the order to end"
        )
        assert [s for s in who.statuses(order_id) if s in FLOW] == FLOW
        done = json_of(httpx.get(swarm_stack.url("ROBOT1_HOST_PORT", f"/orders/{order_id}")))
        assert done["state"] == "done" and done["payout_value"] == 10
        energy = json_of(
            httpx.get(swarm_stack.url("WIND_HOST_PORT", f"/energy-orders/{order_id}"), timeout=10)
        )
        wait_for(
            lambda: (
                iri(swarm_stack, "getBalances", addresses=[energy["address"]], threshold=100)[
                    "balances"
                ]
                == ["10"]
            ),
            60,
            "wind's payout",
        )
    finally:
        who.close()


def test_checkout_unlocks_the_device(swarm_stack: SwarmStack) -> None:
    seen: list[tuple[str, str]] = []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"e2e-{uuid.uuid4().hex[:8]}")
    client.username_pw_set("lock-controller", swarm_stack.secret("lock_mqtt_password"))
    client.on_message = lambda _c, _u, msg: seen.append((msg.topic, msg.payload.decode()))
    client.connect("127.0.0.1", int(swarm_stack.env["MQTT_HOST_PORT"]))
    # seed 004's layout: the device's own prefix machine-economy/lock-1
    locked = "machine-economy/lock-1/machine-access/0/locked"
    client.subscribe("machine-economy/lock-1/#", qos=1)
    client.loop_start()
    try:
        admin = ("admin", swarm_stack.secret("lock_admin_password"))
        api = httpx.Client(base_url=swarm_stack.url("LOCK_HOST_PORT"), auth=admin, timeout=30)
        me = json_of(api.get("/me"))
        assert api.post(f"/accounts/{me['id']}/memberships", json={"days": 1}).status_code == 201
        tool = api.post("/tools", json={"name": "drill", "device_id": "lock-1", "lock_index": 0})
        assert tool.status_code == 201, tool.text
        checkout = api.post(f"/tools/{json_of(tool)['id']}/checkout")
        assert checkout.status_code == 200, checkout.text
        assert json_of(checkout)["state"] == "unlocked"
        wait_for(
            lambda: any(t == locked and "state=unlocked" in p.splitlines() for t, p in seen),
            30,
            "the device to report state=unlocked",
        )
    finally:
        client.loop_stop()
        client.disconnect()


def test_docker_service_scale_runs_two_dashboards_that_both_serve(
    swarm_stack: SwarmStack,
) -> None:
    service = f"{swarm_stack.name}_dashboard"
    _checked(["docker", "service", "scale", "--detach=true", f"{service}=2"])
    wait_for(lambda: len(swarm_stack.healthy("dashboard")) == 2, 240, "two healthy dashboards")
    urls = swarm_stack.dashboard_urls()
    assert len(set(urls)) == 2
    for url in urls:
        machines = json_of(httpx.get(f"{url}/api/machines", timeout=10))
        assert {m["name"] for m in machines["machines"]} >= {"robot 1", "wind"}
        assert httpx.get(f"{url}/ui/", timeout=10).status_code == 200
    # inside the overlay network the name resolves to both tasks (dnsrr)
    robot = swarm_stack.containers("robot-1")[0]["Id"]
    probe = "import socket; print(len({a[4][0] for a in socket.getaddrinfo('dashboard', 8000)}))"
    assert _checked(["docker", "exec", robot, "python", "-c", probe]).strip() == "2"
    _checked(["docker", "service", "scale", "--detach=true", f"{service}=1"])
    wait_for(lambda: len(swarm_stack.containers("dashboard")) == 1, 120, "one dashboard again")


def test_a_killed_task_is_rescheduled_with_nothing_lost(swarm_stack: SwarmStack) -> None:
    def settled() -> dict[str, Any] | None:
        first = robot_health(swarm_stack)
        time.sleep(2)
        again = robot_health(swarm_stack)
        ok = first is not None and again is not None and first["balance"] is not None
        return first if ok and first["balance"] == again["balance"] else None  # type: ignore[index]

    before = wait_for(settled, 120, "robot 1's balance to settle")
    orders = json_of(httpx.get(swarm_stack.url("ROBOT1_HOST_PORT", "/orders"), timeout=10))
    assert orders and before["balance"] >= 90
    old = swarm_stack.containers("robot-1")[0]["Id"]
    _checked(["docker", "kill", "--signal", "KILL", old])

    def replaced() -> bool:
        healthy = swarm_stack.healthy("robot-1")
        return len(healthy) == 1 and healthy[0]["Id"] != old

    wait_for(replaced, 300, "swarm to start a new robot-1 task")
    wait_for(
        lambda: (h := robot_health(swarm_stack)) is not None and h["balance"] == before["balance"],
        120,
        "the same balance after the reschedule",
    )
    after = json_of(httpx.get(swarm_stack.url("ROBOT1_HOST_PORT", "/orders"), timeout=10))
    assert [(o["order_id"], o["state"]) for o in after] == [
        (o["order_id"], o["state"]) for o in orders
    ]
    tasks = _checked(
        ["docker", "service", "ps", "--format", "{{.CurrentState}}", f"{swarm_stack.name}_robot-1"]
    )
    assert len(tasks.splitlines()) >= 2  # the killed task is in the history, a new one runs


def test_stack_rm_and_leaving_the_swarm_leave_nothing(swarm_stack: SwarmStack, swarm: bool) -> None:
    swarm_stack.remove()
    label = f"label=com.docker.stack.namespace={swarm_stack.name}"
    for kind in ("ps", "volume", "network"):
        args = (
            ["docker", kind, "ls", "-q", "--filter", label]
            if kind != "ps"
            else ["docker", "ps", "-aq", "--filter", label]
        )
        assert _run(args).stdout.split() == [], kind
    if swarm:
        _checked(["docker", "swarm", "leave", "--force"])
        assert swarm_state() == "inactive"
