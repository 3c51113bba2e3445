"""The scenario file: which machines, how many, how they behave, the clock and the duration.

A scenario is YAML validated by these pydantic models (docs/scenarios.md documents every
field). A mistake is reported with its place in the file, e.g.
``machines[1].count: must be >= 1``, never as a traceback.

Times in a scenario are *simulated* seconds unless a field says otherwise; the clock's
``time_scale`` says how many simulated seconds pass in one real second, so a robot with
``work_seconds: 60`` at ``time_scale: 60`` works one real second per order, and an energy
slice of ``slice_seconds: 3600`` at ``time_scale: 360`` lasts ten real seconds.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = [
    "BatterySpec",
    "Clock",
    "ConsumerSpec",
    "GridSpec",
    "ProducerSpec",
    "ProviderSpec",
    "RobotSpec",
    "Scenario",
    "ScenarioError",
    "Sweep",
    "load_scenario",
    "parse_duration",
]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_NAME = r"^[a-z][a-z0-9-]{0,30}$"


def parse_duration(value: object) -> float:
    """``90``, ``"90s"``, ``"15m"``, ``"2h"``, ``"1d"`` -> seconds."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or a text like '15m' or '2h'")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"]
    else:
        raise ValueError("a duration is a number of seconds or a text like '15m' or '2h'")
    if seconds <= 0:
        raise ValueError("a duration must be more than 0 seconds")
    return seconds


Duration = Annotated[float, Field(gt=0)]


class _Strict(BaseModel):
    # A misspelt field is an error, not silently ignored: "machnes:" must not run a default.
    model_config = ConfigDict(extra="forbid")


class Clock(_Strict):
    """How simulated time relates to real time, and the devnet's pace."""

    time_scale: float = Field(
        60.0, gt=0, le=100_000, description="simulated seconds per real second"
    )
    milestone_interval: float = Field(
        1.0, gt=0.05, le=60, description="real seconds between devnet milestones"
    )
    mwm: int = Field(9, ge=1, le=14, description="minimum weight magnitude of the devnet")
    slice_seconds: float = Field(
        3600.0, gt=0, le=86400, description="simulated length of an energy market slice"
    )
    start_hour: float = Field(
        6.0, ge=0, lt=24, description="simulated hour of day when the energy clock starts"
    )

    @property
    def real_slice_seconds(self) -> float:
        return self.slice_seconds / self.time_scale


class RobotSpec(_Strict):
    """Robots of seed 000: customers order products over Socket.IO and pay on the ledger;
    each robot pays a share to its energy provider."""

    type: Literal["robot"]
    name: str = Field("robot", pattern=_NAME, description="group name; machines are name-1..N")
    count: int = Field(1, ge=1, le=1000)
    price: int = Field(100, ge=1, le=10**9, description="iota per order")
    work_seconds: float = Field(60.0, ge=0, le=86400, description="simulated work per order")
    orders_per_hour: float = Field(
        6.0, ge=0, le=3600, description="Poisson arrival rate per robot, simulated time"
    )
    provider: str = Field(
        pattern=_NAME, description="the provider group (wind or solar) the robots pay"
    )
    payment: Literal["ledger", "channel"] = Field(
        "ledger", description="how a robot pays its provider: one transfer per order, or a channel"
    )
    provider_share: float = Field(0.1, ge=0, le=1, description="part of the price paid onward")
    fleet: bool = Field(
        False, description="host the group in one process (services/fleet): for large groups"
    )


class ProviderSpec(_Strict):
    """Energy providers of seed 000 (wind, solar): paid by robots for each order's energy."""

    type: Literal["wind", "solar"]
    name: str | None = Field(None, pattern=_NAME, description="group name; default: the type")
    count: int = Field(1, ge=1, le=1000)
    price: int = Field(10, ge=1, le=10**9, description="iota per energy order")
    work_seconds: float = Field(30.0, ge=0, le=86400, description="simulated delivery time")
    producer: str | None = Field(
        None,
        pattern=_NAME,
        description="the producer group it feeds one output message per slice (energy market)",
    )
    capacity_kw: float | None = Field(
        None, gt=0, le=1e6, description="rated (wind) or peak (solar) kW; default 5 / 4"
    )
    fleet: bool = Field(
        False, description="host the group in one process (services/fleet): for large groups"
    )

    @model_validator(mode="after")
    def _fleet_sells_orders_only(self) -> ProviderSpec:
        if self.fleet and self.producer is not None:
            raise ValueError(
                "fleet: a source that feeds a producer runs as its own process (no fleet)"
            )
        return self

    @property
    def group(self) -> str:
        return self.name or self.type

    @property
    def capacity(self) -> float:
        # the services' own defaults (services/wind, services/solar settings)
        return self.capacity_kw or (5.0 if self.type == "wind" else 4.0)


class GridSpec(_Strict):
    """The energy grid of seed 001: prices each slice from the producers' quotes, bills the
    consumers on their return channels and pays the producers on the ledger."""

    type: Literal["grid"]
    name: str | None = Field(None, pattern=_NAME, description="default: grid")
    count: int = Field(1, ge=1, le=1, description="one grid per scenario")
    pricing: Literal["weighted", "merit"] = Field("weighted", description="how a slice is priced")
    fee_percent: int = Field(20, ge=0, le=100, description="the grid's cut of each payment")
    default_price: float = Field(
        10.0, ge=0, le=1e12, description="tokens per kWh before any producer quoted"
    )
    payout: Literal["ledger"] = Field(
        "ledger", description="producers are paid by ledger transfers (the grid has no channels)"
    )

    @property
    def group(self) -> str:
        return self.name or self.type


class ProducerSpec(_Strict):
    """A producer of seed 001: sums its sources' output per slice and quotes it to the grid."""

    type: Literal["producer"]
    name: str | None = Field(None, pattern=_NAME, description="default: producer")
    count: int = Field(1, ge=1, le=1000)
    price: int = Field(
        100, ge=0, le=10**12, description="asking price, tokens per kWh (a fixed price)"
    )

    @property
    def group(self) -> str:
        return self.name or self.type


class ConsumerSpec(_Strict):
    """Households of seed 001: publish their usage per slice and pay the grid's requests."""

    type: Literal["consumer"]
    name: str | None = Field(None, pattern=_NAME, description="default: consumer")
    count: int = Field(1, ge=1, le=1000)
    profile: Literal["family", "commuter"] = Field("family", description="household load profile")
    load_scale: float = Field(1.0, gt=0, le=1e6, description="multiplies the profile's kW")
    faucet_amount: int = Field(
        1_000_000, ge=1, le=10**12, description="tokens a household tops itself up with"
    )

    @property
    def group(self) -> str:
        return self.name or self.type


class BatterySpec(_Strict):
    """Batteries on the grid: buy in slices priced below ``buy_below``, sell above
    ``sell_above``, within capacity and charge rate (docs/battery.md)."""

    type: Literal["battery"]
    name: str | None = Field(None, pattern=_NAME, description="default: battery")
    count: int = Field(1, ge=1, le=1000)
    capacity: float = Field(10.0, gt=0, le=1e6, description="kWh it can store")
    charge_rate: float = Field(2.0, gt=0, le=1e6, description="kWh in or out per slice")
    initial_charge: float = Field(0.0, ge=0, le=1e6, description="kWh stored at the start")
    buy_below: float = Field(50.0, ge=0, le=1e12, description="buys below this price")
    sell_above: float = Field(150.0, ge=0, le=1e12, description="sells above this price")
    faucet_amount: int = Field(
        1_000_000, ge=1, le=10**12, description="tokens it tops itself up with"
    )

    @property
    def group(self) -> str:
        return self.name or self.type


# The discriminated union's branch names, which are not places in the file.
_TYPES = ("robot", "wind", "solar", "grid", "producer", "consumer", "battery")

MachineSpec = Annotated[
    RobotSpec | ProviderSpec | GridSpec | ProducerSpec | ConsumerSpec | BatterySpec,
    Field(discriminator="type"),
]
EnergySpec = GridSpec | ProducerSpec | ConsumerSpec | BatterySpec


class Sweep(_Strict):
    """Run the scenario once per value of one field; the runs are compared in one report."""

    field: str = Field(
        pattern=r"^[a-z_]+(\[\d+\])?(\.[a-z_]+(\[\d+\])?)*$",
        description="the field to vary, named as in an error: machines[0].pricing",
    )
    values: list[Any] = Field(min_length=2, max_length=20)


class Scenario(_Strict):
    """One economy: its machines, clock, duration and random seed."""

    name: str = Field(pattern=_NAME)
    description: str = ""
    seed: int = Field(0, ge=0, le=2**63 - 1, description="random seed of arrivals")
    duration: float = Field(description="simulated duration: seconds or '15m', '2h', '1d'")
    clock: Clock = Clock()
    machines: list[MachineSpec] = Field(min_length=1)
    sweep: Sweep | None = None

    @model_validator(mode="before")
    @classmethod
    def _durations(cls, data: Any) -> Any:
        if isinstance(data, dict) and "duration" in data:
            data = dict(data)
            # a bad duration is left for the field's own validation to name
            with contextlib.suppress(ValueError):
                data["duration"] = parse_duration(data["duration"])
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        groups: dict[str, str] = {}
        for index, spec in enumerate(self.machines):
            group = spec.name if isinstance(spec, RobotSpec) else spec.group
            if group in groups:
                raise ValueError(
                    f"machines[{index}]: the group name {group!r} is used twice"
                    " (give one of them a name:)"
                )
            groups[group] = spec.type
        for index, spec in enumerate(self.machines):
            if isinstance(spec, RobotSpec):
                kind = groups.get(spec.provider)
                if kind not in ("wind", "solar"):
                    raise ValueError(
                        f"machines[{index}].provider: {spec.provider!r} is not a wind or "
                        f"solar group of this scenario (groups: {', '.join(sorted(groups))})"
                    )
        self._check_energy(groups)
        return self

    def _check_energy(self, groups: dict[str, str]) -> None:
        grids = [i for i, spec in enumerate(self.machines) if isinstance(spec, GridSpec)]
        if len(grids) > 1:
            raise ValueError(f"machines[{grids[1]}]: a scenario has one grid")
        for index, spec in enumerate(self.machines):
            if isinstance(spec, ProducerSpec | ConsumerSpec | BatterySpec) and not grids:
                raise ValueError(
                    f"machines[{index}]: a {spec.type} trades on a grid: add '- type: grid'"
                )
            producer = spec.producer if isinstance(spec, ProviderSpec) else None
            if producer is not None and groups.get(producer) != "producer":
                raise ValueError(
                    f"machines[{index}].producer: {producer!r} is not a producer "
                    "group of this scenario"
                )
            if isinstance(spec, BatterySpec):
                if spec.sell_above < spec.buy_below:
                    raise ValueError(
                        f"machines[{index}].sell_above: must be >= buy_below ({spec.buy_below:g})"
                    )
                if spec.initial_charge > spec.capacity:
                    raise ValueError(
                        f"machines[{index}].initial_charge: must be <= capacity ({spec.capacity:g})"
                    )
        if grids:
            real = self.clock.real_slice_seconds
            # the services' SLICE_SECONDS is real time, 0.5 s to an hour
            if not 0.5 <= real <= 3600:
                raise ValueError(
                    f"clock.slice_seconds: is {real:g} real seconds at time_scale "
                    f"{self.clock.time_scale:g}; the services need 0.5 to 3600"
                )

    @property
    def real_duration(self) -> float:
        return self.duration / self.clock.time_scale

    def robots(self) -> list[RobotSpec]:
        return [s for s in self.machines if isinstance(s, RobotSpec)]

    def providers(self) -> list[ProviderSpec]:
        return [s for s in self.machines if isinstance(s, ProviderSpec)]

    def energy_specs(self) -> list[EnergySpec]:
        """The energy market's machines other than the sources (grid first)."""
        specs = [
            s
            for s in self.machines
            if isinstance(s, GridSpec | ProducerSpec | ConsumerSpec | BatterySpec)
        ]
        return sorted(specs, key=lambda s: not isinstance(s, GridSpec))

    def has_grid(self) -> bool:
        return any(isinstance(s, GridSpec) for s in self.machines)

    def machine_count(self) -> int:
        return sum(spec.count for spec in self.machines)


class ScenarioError(Exception):
    """A scenario that cannot be run, with every problem named by its place in the file."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))

    def __str__(self) -> str:
        lines = [f"{self.source}: {len(self.problems)} problem(s)"]
        lines += [f"  {problem}" for problem in self.problems]
        return "\n".join(lines)


def _place(location: tuple[int | str, ...]) -> str:
    place = ""
    for part in location:
        if isinstance(part, int):
            place += f"[{part}]"
        elif part in _TYPES and place.endswith("]"):
            continue  # the discriminated union's branch name is not a place in the file
        else:
            place += f".{part}" if place else str(part)
    return place or "(top level)"


def _number(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _message(error: Any) -> str:
    kind = error["type"]
    context = {key: _number(value) for key, value in (error.get("ctx") or {}).items()}
    if kind == "greater_than_equal":
        return f"must be >= {context['ge']}"
    if kind == "less_than_equal":
        return f"must be <= {context['le']}"
    if kind == "greater_than":
        return f"must be > {context['gt']}"
    if kind == "less_than":
        return f"must be < {context['lt']}"
    if kind == "extra_forbidden":
        return "is not a field of this section (misspelt?)"
    if kind == "missing":
        return "is required"
    if kind == "union_tag_invalid":
        return f"type must be one of {context.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return f"needs a type: ({', '.join(_TYPES)})"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def validate(data: object, source: str = "scenario") -> Scenario:
    """A Scenario from parsed YAML, or a ScenarioError naming each bad field."""
    if not isinstance(data, dict):
        raise ScenarioError(source, ["(top level): a scenario is a mapping of fields"])
    if "duration" in data:
        try:
            parse_duration(data["duration"])
        except ValueError as error:
            raise ScenarioError(source, [f"duration: {error}"]) from None
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            place = _place(tuple(item["loc"]))
            message = _message(item)
            # a model-level check already names its place ("machines[2].provider: ...")
            problems.append(message if place == "(top level)" else f"{place}: {message}")
        raise ScenarioError(source, problems) from None
    variants(scenario, source)  # a sweep value that makes it invalid is named now
    return scenario


_PART = re.compile(r"([a-z_]+)(?:\[(\d+)\])?")


def _slug(value: object) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(value).lower()).strip("-") or "x"


def variants(scenario: Scenario, source: str = "scenario") -> list[Scenario]:
    """The scenarios of a sweep, one per value, named ``<name>-<value>`` (without a sweep:
    the scenario itself). A value that makes the scenario invalid is a ScenarioError named
    ``sweep.values[i]`` with the field's own problem."""
    sweep = scenario.sweep
    if sweep is None:
        return [scenario]
    out: list[Scenario] = []
    problems: list[str] = []
    for index, value in enumerate(sweep.values):
        data: Any = scenario.model_dump(exclude={"sweep"})
        target, key = data, ""
        parts = sweep.field.split(".")
        for depth, part in enumerate(parts):
            match = _PART.fullmatch(part)
            assert match is not None  # the pattern of Sweep.field
            name, item = match.group(1), match.group(2)
            if not isinstance(target, dict) or name not in target:
                raise ScenarioError(
                    source, [f"sweep.field: {sweep.field!r} names no field of this scenario"]
                )
            if depth == len(parts) - 1 and item is None:
                key = name
                break
            target = target[name]
            if item is not None:
                if not isinstance(target, list) or int(item) >= len(target):
                    raise ScenarioError(
                        source, [f"sweep.field: {sweep.field!r} names no field of this scenario"]
                    )
                target = target[int(item)]
        if not key:
            raise ScenarioError(source, [f"sweep.field: {sweep.field!r} names no single field"])
        target[key] = value
        slug = _slug(value)
        data["name"] = f"{scenario.name[: 30 - min(len(slug), 20)]}-{slug[:20]}".strip("-")
        if any(v.name == data["name"] for v in out):
            data["name"] = f"{data['name'][:27]}-{index + 1}"
        try:
            out.append(validate(data, source))
        except ScenarioError as error:
            problems += [f"sweep.values[{index}] ({value!r}): {p}" for p in error.problems]
    if problems:
        raise ScenarioError(source, problems)
    return out


def load_scenario(path: Path | str) -> Scenario:
    """Read and validate a scenario file (ScenarioError: unreadable, not YAML, or invalid)."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(source, [f"cannot read the file: {error.strerror}"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ScenarioError(source, [f"{where}not valid YAML ({problem})"]) from None
    return validate(data, source)
