"""What a scenario will do, decided before it runs: the machines, the order arrivals, the
energy each source and household makes or uses per slice, and the producers' prices.

Everything random comes from the scenario's ``seed``: each robot draws its arrivals from its
own generator, seeded by (scenario seed, robot name), so the same seed gives the same
arrivals whatever else changes (another group added, a different time scale); only the
timings of the real services differ between runs. Each energy machine's model seed
(``SIM_SEED``) is drawn the same way, and the runner starts the energy clock
(``SIM_EPOCH_MS``) at a slice boundary, so slice *k* of a run has the kWh :meth:`Plan.energy`
computes here with the services' own models (shared/energy/simulation.py).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field

from services.scenario.schema import (
    BatterySpec,
    ConsumerSpec,
    GridSpec,
    ProducerSpec,
    ProviderSpec,
    RobotSpec,
    Scenario,
)
from shared.energy.simulation import (
    EnergyModel,
    HouseholdLoad,
    SimClock,
    SolarPanel,
    WindTurbine,
    energy_kwh,
)
from shared.energy.slices import slice_ms

__all__ = ["Arrival", "MachinePlan", "Plan", "energy_model", "make_plan", "setting_value"]


@dataclass(frozen=True)
class MachinePlan:
    """One machine to start: its name, its service module and settings of its own."""

    name: str
    kind: str  # robot, wind, solar, grid, producer, consumer, battery
    group: str
    price: int = 0  # robots and providers: per order; producers: per kWh
    work_seconds: float = 0.0  # simulated
    provider: str | None = None  # robots: the provider machine they pay
    payment: str = "ledger"
    provider_share: float = 0.1
    producer: str | None = None  # wind and solar: the producer machine they feed
    sim_seed: int = 0  # energy models: SIM_SEED
    fleet: bool = False  # hosted with its group in one fleet process (fleets.py)
    # the service's own behaviour settings (environment variable -> value)
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def energy(self) -> bool:
        """A party of the energy market (sources only when they feed a producer)."""
        return self.kind in ("grid", "producer", "consumer", "battery") or self.producer is not None


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
    time_scale: float = 60.0
    slice_seconds: float = 3600.0  # simulated
    start_hour: float = 6.0
    slices: int = 0  # energy slices within the duration

    def providers(self) -> list[MachinePlan]:
        """Every machine but the robots (started first: robots name their provider)."""
        return [m for m in self.machines if m.kind != "robot"]

    def robots(self) -> list[MachinePlan]:
        return [m for m in self.machines if m.kind == "robot"]

    def machine(self, name: str) -> MachinePlan:
        return next(m for m in self.machines if m.name == name)

    @property
    def slice_ms(self) -> int:
        """The real length of a slice as the services round it (shared/energy/slices.py)."""
        return slice_ms(self.slice_seconds / self.time_scale)

    def energy(self, name: str, index: int) -> float:
        """kWh that source or household ``name`` makes or uses in slice ``index`` (counted
        from the energy clock's start), exactly as its service computes it."""
        model = energy_model(self.machine(name))
        clock = SimClock(self.time_scale, self.start_hour)
        return energy_kwh(model, clock, index * self.slice_ms, (index + 1) * self.slice_ms)

    def energy_profiles(self) -> dict[str, list[float]]:
        """kWh per slice of every source feeding a producer and every household, for the
        slices within the duration."""
        return {
            m.name: [self.energy(m.name, k) for k in range(self.slices)]
            for m in self.machines
            if m.kind == "consumer" or (m.kind in ("wind", "solar") and m.producer)
        }

    def prices(self) -> dict[str, list[int]]:
        """Each producer's asking price per slice (tokens per kWh)."""
        return {m.name: [m.price] * self.slices for m in self.machines if m.kind == "producer"}


def energy_model(machine: MachinePlan) -> EnergyModel:
    """The model a source or household runs with its settings (shared/energy/simulation)."""
    if machine.kind == "wind":
        return WindTurbine(seed=machine.sim_seed, rated_kw=float(machine.settings["CAPACITY_KW"]))
    if machine.kind == "solar":
        return SolarPanel(seed=machine.sim_seed, peak_kw=float(machine.settings["CAPACITY_KW"]))
    if machine.kind == "consumer":
        return HouseholdLoad(
            seed=machine.sim_seed,
            profile=machine.settings["PROFILE"],
            scale=float(machine.settings["LOAD_SCALE"]),
        )
    raise ValueError(f"{machine.name} ({machine.kind}) has no energy model")


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


def setting_value(value: float) -> str:
    """A setting's value that reads back as the same float (``:g`` would round it)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _model_seed(seed: int, name: str) -> int:
    return _rng(seed, f"model:{name}").randrange(2**31)


def _provider_machines(
    spec: ProviderSpec, producers: dict[str, list[MachinePlan]], seed: int
) -> list[MachinePlan]:
    pool = producers.get(spec.producer or "", [])
    machines = []
    for n in range(1, spec.count + 1):
        name = f"{spec.group}-{n}"
        machines.append(
            MachinePlan(
                name=name,
                kind=spec.type,
                group=spec.group,
                price=spec.price,
                work_seconds=spec.work_seconds,
                # sources of a group share its producers round-robin
                producer=pool[(n - 1) % len(pool)].name if pool else None,
                sim_seed=_model_seed(seed, name),
                settings={"CAPACITY_KW": setting_value(spec.capacity)},
                fleet=spec.fleet,
            )
        )
    return machines


def _energy_settings(spec: GridSpec | ProducerSpec | ConsumerSpec | BatterySpec) -> dict[str, str]:
    if isinstance(spec, GridSpec):
        return {
            "PRICING": spec.pricing,
            "GRID_FEE_PERCENT": str(spec.fee_percent),
            "GRID_DEFAULT_PRICE": setting_value(spec.default_price),
        }
    if isinstance(spec, ProducerSpec):
        return {"PRODUCER_PRICE": str(spec.price)}
    if isinstance(spec, ConsumerSpec):
        return {
            "PROFILE": spec.profile,
            "LOAD_SCALE": setting_value(spec.load_scale),
            "FAUCET_AMOUNT": str(spec.faucet_amount),
        }
    return {
        "CAPACITY": setting_value(spec.capacity),
        "CHARGE_RATE": setting_value(spec.charge_rate),
        "INITIAL_CHARGE": setting_value(spec.initial_charge),
        "BUY_BELOW": setting_value(spec.buy_below),
        "SELL_ABOVE": setting_value(spec.sell_above),
        "FAUCET_AMOUNT": str(spec.faucet_amount),
    }


def _energy_machines(
    spec: GridSpec | ProducerSpec | ConsumerSpec | BatterySpec, seed: int
) -> list[MachinePlan]:
    names = (
        [spec.group]
        if isinstance(spec, GridSpec)
        else [f"{spec.group}-{n}" for n in range(1, spec.count + 1)]
    )
    return [
        MachinePlan(
            name=name,
            kind=spec.type,
            group=spec.group,
            price=spec.price if isinstance(spec, ProducerSpec) else 0,
            sim_seed=_model_seed(seed, name),
            settings=_energy_settings(spec),
        )
        for name in names
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
            fleet=spec.fleet,
        )
        for n in range(1, spec.count + 1)
    ]


def make_plan(scenario: Scenario) -> Plan:
    """The machines, every order arrival and the energy plan of ``scenario`` (deterministic
    in its seed)."""
    providers: dict[str, list[MachinePlan]] = {}
    producers: dict[str, list[MachinePlan]] = {}
    machines: list[MachinePlan] = []
    for energy_spec in scenario.energy_specs():
        group = _energy_machines(energy_spec, scenario.seed)
        if isinstance(energy_spec, ProducerSpec):
            producers[energy_spec.group] = group
        machines.extend(group)
    for provider_spec in scenario.providers():
        group = _provider_machines(provider_spec, producers, scenario.seed)
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
    clock = scenario.clock
    slices = int(scenario.duration // clock.slice_seconds) if scenario.has_grid() else 0
    return Plan(
        machines,
        arrivals,
        time_scale=clock.time_scale,
        slice_seconds=clock.slice_seconds,
        start_hour=clock.start_hour,
        slices=slices,
    )
