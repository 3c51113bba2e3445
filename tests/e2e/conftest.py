"""Fixtures for end-to-end tests; the compose part runs docker-compose.yml on a real engine.

The compose stack starts as on a fresh clone without .env: no secret is written anywhere, the
stack's one-shot `secrets` service generates them (the tests read them back from the running
containers). It gets a unique project name and an env file with free host ports only, so parallel
runs never collide (and a developer's own .env is never read); it is always taken down with its
volumes. Skipped, with the reason, when no Docker engine or Compose is reachable or when the base
images are missing (on machines without a registry, `.ci/docker-images.sh` builds stand-ins).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.devnet import random_seed
from tests.support.process import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
# Compose reads the override by itself only when no --file is given; the tests give both.
COMPOSE_FILES = (COMPOSE_FILE, REPO_ROOT / "docker-compose.override.yml")
STACK_FILE = REPO_ROOT / "docker-stack.yml"
INIT_SECRETS = REPO_ROOT / "deploy" / "init-secrets.sh"
# Services that run once and exit 0 (the secrets generator); never "healthy", never restarted.
ONE_SHOT_SERVICES = frozenset({"secrets"})
BASE_IMAGES = ("python:3.11", "python:3.11-slim", "eclipse-mosquitto:2")
# One tag for all runs, so a second run reuses the layer cache of the first.
E2E_IMAGE = os.environ.get("E2E_IMAGE", "machine-economy:e2e")
_TRYTES = "ABCDEFGHIJKLMNOPQRSTUVWXYZ9"
SEED_VARIABLES = (
    "DEVNET_FAUCET_SEED",
    "DEVNET_COORDINATOR_SEED",
    "ROBOT1_SEED",
    "ROBOT2_SEED",
    "WIND_SEED",
    "SOLAR_SEED",
    "GRID_SEED",
    "PRODUCER_SEED",
    "CONSUMER1_SEED",
    "CONSUMER2_SEED",
    "BATTERY_SEED",
)
SECRET_VARIABLES = (
    "DEVNET_FAUCET_TOKEN",
    "MACHINE_TOKEN",
    "LOCK_ADMIN_PASSWORD",
    "LOCK_MQTT_PASSWORD",
    "LOCK_DEVICE_MQTT_PASSWORD",
)
# The file each secret is generated into (deploy/init-secrets.sh): the variable, lower case.
SECRET_FILES = tuple(name.lower() for name in (*SEED_VARIABLES, *SECRET_VARIABLES))
PORT_VARIABLES = (
    "DASHBOARD_HOST_PORT",
    "DEVNET_HOST_PORT",
    "MQTT_HOST_PORT",
    "LOCK_HOST_PORT",
    "ROBOT1_HOST_PORT",
    "WIND_HOST_PORT",
    "ROBOT2_HOST_PORT",
    "SOLAR_HOST_PORT",
    "LEDGER_HOST_PORT",
    "GRID_HOST_PORT",
    "PRODUCER_HOST_PORT",
    "CONSUMER1_HOST_PORT",
    "CONSUMER2_HOST_PORT",
    "BATTERY_HOST_PORT",
)


def _run(args: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)


def docker_engine_reason() -> str | None:
    """Why the compose tests cannot run here, or None when they can."""
    if shutil.which("docker") is None:
        return "no docker CLI on PATH"
    try:
        if _run(["docker", "info"], timeout=20).returncode != 0:
            return "no Docker engine reachable (docker info failed)"
    except subprocess.TimeoutExpired:
        return "Docker engine did not answer docker info within 20 s"
    if compose_command() is None:
        return "neither `docker compose` nor `docker-compose` is installed"
    missing = [i for i in BASE_IMAGES if _run(["docker", "image", "inspect", i]).returncode]
    if missing:
        return f"base images missing: {', '.join(missing)} (run .ci/docker-images.sh)"
    return None


def compose_command() -> list[str] | None:
    """`docker compose` (v2) if present, else `docker-compose` (v1.29)."""
    if shutil.which("docker") and _run(["docker", "compose", "version"]).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def random_secrets() -> dict[str, str]:
    """A value for every secret variable (for tests that give their own)."""
    values = {name: random_seed() for name in SEED_VARIABLES}
    values.update({name: secrets.token_hex(16) for name in SECRET_VARIABLES})
    return values


def stack_env(**overrides: str) -> dict[str, str]:
    """The env file of a fresh clone's run: free host ports and quick machines, no secret."""
    env = {name: str(free_port()) for name in PORT_VARIABLES}
    env.update(
        IMAGE=E2E_IMAGE,
        PUBLISH_ADDRESS="127.0.0.1",
        PUBLIC_HOST="127.0.0.1",
        ROBOT_WORK_SECONDS="1",
        WIND_WORK_SECONDS="0.5",
        SOLAR_WORK_SECONDS="0.5",
        DEVNET_MILESTONE_INTERVAL="1.0",
    )
    env.update(overrides)
    return env


class ComposeStack:
    """docker-compose.yml (+ override) under one project name with its own env file."""

    def __init__(self, directory: Path, env: dict[str, str]) -> None:
        command = compose_command()
        assert command is not None
        self.env = env
        self.project = f"me2e{uuid.uuid4().hex[:10]}"
        directory.mkdir(parents=True, exist_ok=True)
        self.env_file = directory / ".env"
        self.env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
        self.env_file.chmod(0o600)
        self.base = [
            *command,
            "--project-name",
            self.project,
            "--project-directory",
            str(REPO_ROOT),
            *(arg for path in COMPOSE_FILES for arg in ("--file", str(path))),
            "--env-file",
            str(self.env_file),
        ]
        self.v2 = command == ["docker", "compose"]

    # -- commands --------------------------------------------------------------------------
    def run(self, *args: str, timeout: float = 300, check: bool = True) -> str:
        result = _run([*self.base, *args], timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(
                f"compose {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return result.stdout + result.stderr

    def config(self) -> dict[str, Any]:
        """`compose config`, parsed (stdout only: v1 prints warnings on stderr)."""
        result = _run([*self.base, "config"], timeout=60)
        assert result.returncode == 0, result.stderr
        config: dict[str, Any] = yaml.safe_load(result.stdout)
        return config

    def url(self, port_variable: str, path: str = "") -> str:
        return f"http://127.0.0.1:{self.env[port_variable]}{path}"

    def container_ids(self, service: str | None = None) -> list[str]:
        label = [f"label=com.docker.compose.project={self.project}"]
        if service is not None:
            label.append(f"label=com.docker.compose.service={service}")
        args = ["docker", "ps", "-aq"]
        for item in label:
            args += ["--filter", item]
        return _run(args).stdout.split()

    def states(self) -> dict[str, tuple[str, str]]:
        """service -> (state, health) for every container of the project.

        A one-shot service that finished with status 0 reads ("completed", "none").
        """
        ids = self.container_ids()
        if not ids:
            return {}
        out = _run(["docker", "inspect", *ids]).stdout
        states = {}
        for item in json.loads(out or "[]"):
            service = item["Config"]["Labels"]["com.docker.compose.service"]
            health = (item["State"].get("Health") or {}).get("Status", "none")
            state = item["State"]["Status"]
            if service in ONE_SHOT_SERVICES and state == "exited" and not item["State"]["ExitCode"]:
                state = "completed"
            states[service] = (state, health)
        return states

    def secret(self, name: str) -> str:
        """A generated secret, read inside the running stack (/run/secrets/<name>)."""
        container = self.container_ids("devnet")[0]
        result = _run(["docker", "exec", container, "cat", f"/run/secrets/{name}"])
        assert result.returncode == 0, result.stderr
        return result.stdout

    def wait_healthy(self, services: list[str] | None = None, timeout: float = 300) -> None:
        """`up --wait` for Compose v1 too: every (given) container running and healthy."""
        deadline = time.monotonic() + timeout
        states: dict[str, tuple[str, str]] = {}
        while time.monotonic() < deadline:
            states = self.states()
            wanted = {s: states.get(s) for s in (services or list(states))}
            done = (("running", "healthy"), ("completed", "none"))
            if wanted and all(v in done for v in wanted.values()):
                return
            broken = [s for s, v in wanted.items() if v and v[0] in ("exited", "dead")]
            if broken:
                raise AssertionError(f"{broken} stopped: {states}\n{self.logs(*broken)}")
            time.sleep(1)
        raise AssertionError(f"not healthy after {timeout:.0f} s: {states}\n{self.logs()}")

    def up(self, timeout: float = 600) -> None:
        """`up -d`, then wait for every healthcheck (the same way for Compose v1 and v2: v2's
        `--wait` counts a finished one-shot service as a failure in some versions)."""
        self.run("up", "--detach", "--no-build", timeout=timeout)
        self.wait_healthy(timeout=timeout)

    def logs(self, *services: str, tail: int = 60) -> str:
        return self.run("logs", "--no-color", "--tail", str(tail), *services, check=False)

    def volumes(self) -> list[str]:
        out = _run(
            [
                "docker",
                "volume",
                "ls",
                "-q",
                "--filter",
                f"label=com.docker.compose.project={self.project}",
            ]
        ).stdout
        return out.split()

    def networks(self) -> list[str]:
        args = ["docker", "network", "ls", "-q"]
        args += ["--filter", f"label=com.docker.compose.project={self.project}"]
        return _run(args).stdout.split()

    def down(self) -> None:
        self.run("down", "--volumes", "--remove-orphans", "--timeout", "10", check=False)


@pytest.fixture(scope="session")
def docker_ready() -> None:
    reason = docker_engine_reason()
    if reason is not None:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def compose_stack(
    docker_ready: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ComposeStack]:
    """The whole economy built from this tree and up (healthy); always downed with -v."""
    stack = ComposeStack(tmp_path_factory.mktemp("compose"), stack_env())
    try:
        # One build for all services: they share the image (v1 would build it per service).
        stack.run("build", "devnet", timeout=1200)
        stack.up()
        yield stack
    except BaseException:
        print(stack.logs())
        raise
    finally:
        stack.down()


def json_of(reply: Any) -> Any:
    """reply.json() with the body in the error when it is not JSON."""
    try:
        return reply.json()
    except ValueError:
        raise AssertionError(f"not JSON ({reply.status_code}): {reply.text[:500]}") from None
