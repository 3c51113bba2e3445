"""The scenario file: which machines, how many, how they behave, the clock and the duration.

A scenario is YAML validated by these pydantic models (docs/scenarios.md documents every
field). A mistake is reported with its place in the file, e.g.
``machines[1].count: must be >= 1``, never as a traceback.

Times in a scenario are *simulated* seconds unless a field says otherwise; the clock's
``time_scale`` says how many simulated seconds pass in one real second, so a robot with
``work_seconds: 60`` at ``time_scale: 60`` works one real second per order.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = [
    "Clock",
    "ProviderSpec",
    "RobotSpec",
    "Scenario",
    "ScenarioError",
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


class ProviderSpec(_Strict):
    """Energy providers of seed 000 (wind, solar): paid by robots for each order's energy."""

    type: Literal["wind", "solar"]
    name: str | None = Field(None, pattern=_NAME, description="group name; default: the type")
    count: int = Field(1, ge=1, le=1000)
    price: int = Field(10, ge=1, le=10**9, description="iota per energy order")
    work_seconds: float = Field(30.0, ge=0, le=86400, description="simulated delivery time")

    @property
    def group(self) -> str:
        return self.name or self.type


MachineSpec = Annotated[RobotSpec | ProviderSpec, Field(discriminator="type")]


class Scenario(_Strict):
    """One economy: its machines, clock, duration and random seed."""

    name: str = Field(pattern=_NAME)
    description: str = ""
    seed: int = Field(0, ge=0, le=2**63 - 1, description="random seed of arrivals")
    duration: float = Field(description="simulated duration: seconds or '15m', '2h', '1d'")
    clock: Clock = Clock()
    machines: list[MachineSpec] = Field(min_length=1)

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
            group = spec.group if isinstance(spec, ProviderSpec) else spec.name
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
        return self

    @property
    def real_duration(self) -> float:
        return self.duration / self.clock.time_scale

    def robots(self) -> list[RobotSpec]:
        return [s for s in self.machines if isinstance(s, RobotSpec)]

    def providers(self) -> list[ProviderSpec]:
        return [s for s in self.machines if isinstance(s, ProviderSpec)]

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
        elif part in ("robot", "wind", "solar") and place.endswith("]"):
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
        return "needs a type: (robot, wind or solar)"
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
        return Scenario.model_validate(data)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            place = _place(tuple(item["loc"]))
            message = _message(item)
            # a model-level check already names its place ("machines[2].provider: ...")
            problems.append(message if place == "(top level)" else f"{place}: {message}")
        raise ScenarioError(source, problems) from None


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
