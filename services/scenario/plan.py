"""What a scenario will do, decided before it runs: the machines and the order arrivals.

Everything random comes from the scenario's ``seed``: each robot draws its arrivals from its
own generator, seeded by (scenario seed, robot name), so the same seed gives the same
arrivals whatever else changes (another group added, a different time scale); only the
timings of the real services differ between runs.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from services.scenario.schema import ProviderSpec, RobotSpec, Scenario

__all__ = ["Arrival", "MachinePlan", "Plan", "make_plan"]


@dataclass(frozen=True)
class MachinePlan:
    """One machine to start: its name, its service module and settings of its own."""

    name: str
    kind: str  # robot, wind, solar
    group: str
    price: int
    work_seconds: float  # simulated
    provider: str | None = None  # robots: the provider machine they pay
    payment: str = "ledger"
    provider_share: float = 0.1


@dataclass(frozen=True)
class Arrival:
    """A customer's order to ``robot`` at ``at`` simulated seconds after the start."""

    at: float
    robot: str
    number: int  # the robot's n-th order, from 1


@dataclass(frozen=True)
class Plan:
    machines: list[MachinePlan]
    arrivals: list[Arrival]

    def providers(self) -> list[MachinePlan]:
        return [m for m in self.machines if m.kind != "robot"]

    def robots(self) -> list[MachinePlan]:
        return [m for m in self.machines if m.kind == "robot"]


def _rng(seed: int, name: str) -> random.Random:
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _poisson_arrivals(rng: random.Random, per_hour: float, duration: float) -> list[float]:
    if per_hour <= 0:
        return []
    rate = per_hour / 3600.0
    times: list[float] = []
    now = 0.0
    while True:
        now += rng.expovariate(rate)
        if now >= duration:
            return times
        times.append(now)


def _provider_machines(spec: ProviderSpec) -> list[MachinePlan]:
    return [
        MachinePlan(
            name=f"{spec.group}-{n}",
            kind=spec.type,
            group=spec.group,
            price=spec.price,
            work_seconds=spec.work_seconds,
        )
        for n in range(1, spec.count + 1)
    ]


def _robot_machines(spec: RobotSpec, providers: dict[str, list[MachinePlan]]) -> list[MachinePlan]:
    pool = providers[spec.provider]  # the schema checked the group exists
    return [
        MachinePlan(
            name=f"{spec.name}-{n}",
            kind="robot",
            group=spec.name,
            price=spec.price,
            work_seconds=spec.work_seconds,
            # robots of a group share its providers round-robin
            provider=pool[(n - 1) % len(pool)].name,
            payment=spec.payment,
            provider_share=spec.provider_share,
        )
        for n in range(1, spec.count + 1)
    ]


def make_plan(scenario: Scenario) -> Plan:
    """The machines and every order arrival of ``scenario`` (deterministic in its seed)."""
    providers: dict[str, list[MachinePlan]] = {}
    machines: list[MachinePlan] = []
    for provider_spec in scenario.providers():
        group = _provider_machines(provider_spec)
        providers[provider_spec.group] = group
        machines.extend(group)
    arrivals: list[Arrival] = []
    for robot_spec in scenario.robots():
        robots = _robot_machines(robot_spec, providers)
        machines.extend(robots)
        for robot in robots:
            times = _poisson_arrivals(
                _rng(scenario.seed, robot.name), robot_spec.orders_per_hour, scenario.duration
            )
            arrivals.extend(Arrival(t, robot.name, i) for i, t in enumerate(times, 1))
    arrivals.sort(key=lambda a: (a.at, a.robot))
    return Plan(machines, arrivals)
