"""The compose files fit together (docs/docker.md, "The files"); no Docker needed.

A service added to docker-compose.yml must also wait for the secrets in the override and get
its Docker secrets in docker-stack.yml; docker-compose.yml itself must stay loadable by
`docker stack deploy` (no depends_on conditions, long volume syntax). These checks say which
service is missing what, before any engine is involved.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / name).read_text())
    return data


BASE = load("docker-compose.yml")
OVERRIDE = load("docker-compose.override.yml")
STACK = load("docker-stack.yml")
POSTGRES = load("docker-compose.postgres.yml")
SERVICES = sorted(BASE["services"])
GENERATED = set(
    re.search(r'SECRETS="\n(.*?)"\n', (ROOT / "deploy/init-secrets.sh").read_text(), re.S)
    .group(1)  # type: ignore[union-attr]
    .split()
)


def secret_files(service: dict[str, Any]) -> set[str]:
    """The /run/secrets/<name> files a service reads: through *_FILE variables, or named
    inside a value (the ledger participants' public key files in LEDGER_PARTICIPANTS)."""
    names = set()
    for value in (service.get("environment") or {}).values():
        names.update(re.findall(r"/run/secrets/([A-Za-z0-9_]+)", str(value)))
    return names


# Made by deploy/init-secrets.sh from the generated private keys, not generated themselves.
DERIVED = {f"ledger_{name}_public_key" for name in ("grid", "producer", "consumer")}


@pytest.mark.parametrize("name", SERVICES)
def test_the_base_file_stays_loadable_by_docker_stack_deploy(name: str) -> None:
    service = BASE["services"][name]
    assert isinstance(service.get("depends_on", []), list), (
        f"{name}: depends_on with conditions belongs in docker-compose.override.yml"
    )
    for volume in service.get("volumes", []):
        assert isinstance(volume, dict), f"{name}: use the long volume syntax ({volume!r})"
    assert "build" not in service and "restart" not in service, f"{name}: Compose only"


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_waits_for_the_generated_secrets_under_compose(name: str) -> None:
    service = OVERRIDE["services"].get(name)
    assert service is not None, f"{name}: add it to docker-compose.override.yml"
    assert service["depends_on"]["secrets"] == {"condition": "service_completed_successfully"}
    mounts = {v["target"]: v for v in service["volumes"]}
    assert mounts["/run/secrets"]["source"] == "secrets" and mounts["/run/secrets"]["read_only"]


@pytest.mark.parametrize("name", SERVICES)
def test_every_secret_a_service_reads_is_generated_and_a_swarm_secret(name: str) -> None:
    wanted = secret_files(BASE["services"][name])
    assert wanted <= GENERATED | DERIVED, (
        f"{name}: add {wanted - GENERATED - DERIVED} to deploy/init-secrets.sh"
    )
    swarm = STACK["services"].get(name)
    assert swarm is not None, f"{name}: add it to docker-stack.yml"
    assert set(swarm.get("secrets", [])) == wanted, f"{name}: its secrets in docker-stack.yml"
    assert wanted <= set(STACK["secrets"])
    assert swarm["deploy"]["endpoint_mode"] == "dnsrr"
    published = [p for p in BASE["services"][name].get("ports", [])]
    assert len(swarm.get("ports", [])) == len(published), f"{name}: host-mode ports"
    assert all(p["mode"] == "host" for p in swarm.get("ports", []))


def test_a_value_given_in_the_environment_wins_in_every_service() -> None:
    """Each `X_FILE` secret comes with `X: ${SOME_SECRET:-}`: an empty default, never required."""
    for name in SERVICES:
        environment = BASE["services"][name].get("environment") or {}
        for key in environment:
            if key.endswith("_FILE") and key.removesuffix("_FILE") in environment:
                value = str(environment[key.removesuffix("_FILE")])
                assert re.fullmatch(r"\$\{[A-Z0-9_]+:-\}", value), (name, key, value)
    assert ":?" not in (ROOT / "docker-compose.yml").read_text()  # nothing is required


def test_the_postgres_overlay_gives_every_stateful_service_its_own_database() -> None:
    sql = (ROOT / "deploy/postgres-init.sql").read_text()
    databases = set(re.findall(r"CREATE DATABASE (\w+);", sql))
    used = set()
    for name, service in POSTGRES["services"].items():
        if name == "postgres":
            continue
        environment = service["environment"]
        assert environment["PGPASSFILE"] == "/run/secrets/postgres_pgpass"
        url = next(v for k, v in environment.items() if k.endswith("DATABASE_URL"))
        assert url.startswith("postgresql+psycopg://economy@postgres:5432/"), url
        used.add(url.rsplit("/", 1)[1])
    assert used == databases and len(used) == len(POSTGRES["services"]) - 1
    assert "postgres_password" in GENERATED


def _with_defaults(value: str) -> str:
    """A compose value as a fresh clone starts it: every ``${NAME:-default}`` its default."""
    return re.sub(r"\$\{[A-Za-z0-9_]+:-([^}]*)\}", r"\1", value)


def test_the_demo_lock_tools_are_valid_and_robot_1_can_rent_the_paid_one() -> None:
    from pydantic import TypeAdapter

    from services.lock.schemas import ToolIn

    lock = BASE["services"]["lock"]["environment"]
    tools = TypeAdapter(list[ToolIn]).validate_json(_with_defaults(lock["LOCK_TOOLS"]))
    # docs/robot.md: ROBOT1_RENT_TOOL_URL=http://lock:8080 ROBOT1_RENT_TOOL_ID=1 rents tool 1
    assert tools[0].pricing == "paid" and tools[0].price_per_minute >= 1
    robot = BASE["services"]["robot-1"]["environment"]
    assert robot["RENT_TOOL_URL"] == "${ROBOT1_RENT_TOOL_URL:-}"
    assert robot["RENT_TOOL_ID"] == "${ROBOT1_RENT_TOOL_ID:-}"
    assert robot["CHANNEL_PUBLIC_URL"] == "http://robot-1:3000"
    # the e2e lock test registers its own tool on lock 0 of the device: never the same lock
    assert all(tool.lock_index != 0 for tool in tools)
