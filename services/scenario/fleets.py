"""Groups of machines hosted as one fleet process (``fleet: true``, services/fleet).

A scenario's robot or provider group with ``fleet: true`` runs as one
``python -m services.fleet`` process instead of one process per machine: each machine keeps
its own wallet, database, books and Socket.IO endpoint, served under ``/m/<name>`` of the
fleet's port (docs/fleet.md). It is how a scenario of hundreds of machines fits one box. The
fleet's machines are named ``<group>-1 .. <group>-N``, exactly as the plan names them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from services.scenario.plan import MachinePlan
from shared.machine.settings import slug
from shared.process import ManagedProcess

__all__ = ["Fleet", "fleet_groups"]


@dataclass
class Fleet:
    group: str
    kind: str
    port: int
    machines: list[MachinePlan] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def slugs(self) -> dict[str, str]:
        return {m.name: slug(m.name) for m in self.machines}

    @property
    def urls(self) -> dict[str, str]:
        """Each machine's REST base inside the fleet."""
        return {name: f"{self.base_url}/m/{path}" for name, path in self.slugs.items()}

    def config(self, time_scale: float, urls: dict[str, str]) -> dict[str, Any]:
        """The fleet's ``--config`` (docs/fleet.md): what the runner gives a lone machine."""
        first = self.machines[0]  # a group shares price, work time and payment
        settings: dict[str, Any] = {
            "price": first.price,
            "work_seconds": round(first.work_seconds / time_scale, 3),
            "poll_interval": 1.0,
            # the customers all come from the runner: no per-client limits, a long queue
            "max_orders_per_connection": 0,
            "max_orders_per_address": 0,
            "max_queue": 1000,
        }
        machines: dict[str, dict[str, Any]] = {}
        if self.kind == "robot":
            settings |= {"provider_payment": first.payment, "provider_share": first.provider_share}
            # each robot's own provider (round-robin over its provider group, plan.py)
            machines = {m.name: {"provider_url": urls[m.provider or ""]} for m in self.machines}
        return {
            "kind": self.kind,
            "count": len(self.machines),
            "name_prefix": self.group,
            "settings": settings,
            "machines": machines,
        }

    def process(
        self, folder: Path, env: dict[str, str], time_scale: float, urls: dict[str, str]
    ) -> ManagedProcess:
        config = folder / "fleets" / f"{self.group}.yaml"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(yaml.safe_dump(self.config(time_scale, urls), sort_keys=False))
        arguments = ["-m", "services.fleet", "--kind", self.kind]
        arguments += ["--count", str(len(self.machines)), "--port", str(self.port)]
        arguments += ["--host", "127.0.0.1", "--config", str(config)]
        arguments += ["--data-dir", str(folder / "data" / f"fleet-{self.group}")]
        arguments += ["--public-url", self.base_url]
        return ManagedProcess(
            f"fleet-{self.group}",
            arguments,
            env=env,
            log_path=folder / "logs" / f"fleet-{self.group}.log",
        )

    def ready(self) -> str | None:
        """None once every hosted machine has started (the fleet's /health is 200)."""
        reply = httpx.get(self.base_url + "/health", timeout=5)
        return None if reply.status_code == 200 else f"fleet health {reply.status_code}"


def fleet_groups(machines: list[MachinePlan], urls: dict[str, str]) -> dict[str, Fleet]:
    """The fleet of each ``fleet: true`` group, on the port planned for its first machine."""
    fleets: dict[str, Fleet] = {}
    for machine in machines:
        if not machine.fleet:
            continue
        if machine.group not in fleets:
            port = int(urls[machine.name].rsplit(":", 1)[1])
            fleets[machine.group] = Fleet(machine.group, machine.kind, port)
        fleets[machine.group].machines.append(machine)
    return fleets
