"""What a fleet hosts: its kind, how many, each machine's settings (docs/fleet.md).

A machine of a fleet has exactly the settings of the same machine run alone (RobotSettings,
WindSettings, SolarSettings), taken from, in order of precedence: its entry under
``machines`` in the config file, the file's ``settings``, the environment (the single
service's variables: IOTA_NODE_URL, MACHINE_TOKEN, PRICE, ...), the defaults. What must
differ per machine is the fleet's to set: the name, the seed (derived from FLEET_SEED, so
that secrets still come from the environment only and a run is reproducible), the data
directory, the path under which it is served.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from services.fleet.env import Kind
from shared.machine.settings import MachineSettings, slug
from shared.provider import SolarSettings, WindSettings
from shared.robot import RobotSettings
from shared.settings import values_from_files

__all__ = [
    "SETTINGS",
    "FleetConfigError",
    "FleetFile",
    "FleetPlan",
    "HostedSettings",
    "load_file",
    "machine_seed",
    "plan_fleet",
]

SETTINGS: dict[str, type[MachineSettings]] = {
    "robot": RobotSettings,
    "wind": WindSettings,
    "solar": SolarSettings,
}
_TRYTES = "9ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# Set by the fleet for each machine (or shared by the whole process); a config file that
# names one is refused rather than silently overruled.
FLEET_OWNED = frozenset(
    {
        "name",
        "seed",
        "port",
        "host",
        "data_dir",
        "database_url",
        "channel_key",
        "channel_public_url",
        "log_level",
    }
)
# One per process (one ZMQ subscriber, one node client): the same for every machine.
PROCESS_WIDE = frozenset({"iota_node_url", "iota_zmq_url", "iota_node_timeout"})


class FleetConfigError(ValueError):
    """A bad config file or setting; the message names where (``machines.robot-3.price``)."""


class FleetFile(BaseModel):
    """The ``--config`` file (YAML or JSON). Every key is optional; the CLI's --kind and
    --count win over ``kind`` and ``count``."""

    model_config = ConfigDict(extra="forbid")

    kind: Kind | None = None
    count: int | None = Field(None, ge=1, le=10_000)
    name_prefix: str | None = Field(
        None, pattern=r"^[A-Za-z0-9_.-]{1,40}$", description="machines are <prefix>-1 .. -N"
    )
    settings: dict[str, Any] = Field(default_factory=dict, description="for every machine")
    providers: list[str] = Field(
        default_factory=list,
        description="robots: PROVIDER_URL of each robot, given round-robin (robot i gets "
        "providers[(i-1) % len])",
    )
    machines: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="per machine (by name): settings over `settings`"
    )

    @field_validator("providers")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not re.match(r"^https?://", url):
                raise ValueError(f"{url!r} is not an http(s) URL")
        return value


class HostedSettings(BaseModel):
    """One machine of the plan: its settings and where it is served."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str
    slug: str
    settings: MachineSettings


class FleetPlan(BaseModel):
    """Everything the fleet will host, validated before anything starts."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    kind: Kind
    machines: list[HostedSettings]
    iota_node_url: str
    iota_zmq_url: str
    iota_node_timeout: float


def machine_seed(fleet_seed: str, name: str) -> str:
    """The 81-tryte seed of machine ``name``: HMAC-SHA256(FLEET_SEED, name) stretched and
    mapped to trytes (bytes >= 243 are skipped, so every tryte is equally likely).
    Different names give unrelated seeds; the same FLEET_SEED and name, the same wallet."""
    trytes: list[str] = []
    counter = 0
    while len(trytes) < 81:
        block = hmac.new(
            fleet_seed.encode(), f"{name}\x00{counter}".encode(), hashlib.sha256
        ).digest()
        trytes.extend(_TRYTES[byte % 27] for byte in block if byte < 243)
        counter += 1
    return "".join(trytes[:81])


def load_file(path: Path) -> FleetFile:
    """Read and validate the config file; errors name the key (``settings: ...``)."""
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise FleetConfigError(f"{path}: cannot read it: {error}") from None
    if not isinstance(raw, dict):
        raise FleetConfigError(f"{path}: must be a mapping (kind, count, settings, ...)")
    try:
        return FleetFile.model_validate(raw)
    except ValidationError as error:
        raise FleetConfigError(f"{path}: {_describe(error)}") from None


def _describe(error: ValidationError, prefix: str = "") -> str:
    parts = []
    for item in error.errors():
        where = ".".join([*([prefix] if prefix else []), *(str(p) for p in item["loc"])])
        parts.append(f"{where or '(top)'}: {item['msg']}")
    return "; ".join(parts)


def _check_keys(where: str, values: Mapping[str, Any], known: set[str], per_machine: bool) -> None:
    for key in values:
        if key in FLEET_OWNED:
            raise FleetConfigError(
                f"{where}.{key}: set by the fleet for each machine (docs/fleet.md)"
                + (" ; seeds derive from FLEET_SEED" if key == "seed" else "")
            )
        if per_machine and key in PROCESS_WIDE:
            raise FleetConfigError(f"{where}.{key}: one for the whole fleet; set it in settings")
        if key not in known:
            raise FleetConfigError(f"{where}.{key}: not a setting of this kind of machine")


def plan_fleet(
    *,
    kind: Kind,
    count: int,
    fleet_seed: SecretStr,
    data_dir: Path,
    port: int,
    base_url: str,
    file: FleetFile | None = None,
) -> FleetPlan:
    """Validate every machine's settings; raises FleetConfigError naming the first bad one.

    ``base_url``: how peers reach this fleet (``http://host:port``); a machine's own URL
    (its channel peers call it) is ``<base_url>/m/<slug>``."""
    file = file or FleetFile()
    settings_type = SETTINGS[kind]
    known = set(settings_type.model_fields)
    _check_keys("settings", file.settings, known, per_machine=False)
    prefix = file.name_prefix or kind
    names = [f"{prefix}-{index}" for index in range(1, count + 1)]
    unknown = sorted(set(file.machines) - set(names))
    if unknown:
        raise FleetConfigError(
            f"machines.{unknown[0]}: no such machine in this fleet ({names[0]} .. {names[-1]})"
        )
    if file.providers and kind != "robot":
        raise FleetConfigError("providers: only robots have a provider")
    # MACHINE_TOKEN_FILE and the like, as the single service reads them.
    from_files = values_from_files(settings_type)
    for owned in FLEET_OWNED:
        from_files.pop(owned, None)
    secret = fleet_seed.get_secret_value()
    machines: list[HostedSettings] = []
    for index, name in enumerate(names, start=1):
        own = file.machines.get(name, {})
        _check_keys(f"machines.{name}", own, known, per_machine=True)
        values: dict[str, Any] = {**from_files, **file.settings}
        if file.providers:
            values["provider_url"] = file.providers[(index - 1) % len(file.providers)]
        values.update(own)
        path = slug(name)
        values.update(
            name=name,
            port=port,  # the fleet's: what the machine logs and reports as its own
            seed=machine_seed(secret, name),
            data_dir=data_dir / path,
            # One SQLite file per machine (docs/fleet.md says why), never a shared URL
            # from the environment.
            database_url=None,
            channel_key=None,
            channel_public_url=f"{base_url.rstrip('/')}/m/{path}",
        )
        try:
            settings = settings_type(**values)
        except ValidationError as error:
            raise FleetConfigError(_describe(error, f"machines.{name}")) from None
        machines.append(HostedSettings(name=name, slug=path, settings=settings))
    first = machines[0].settings
    return FleetPlan(
        kind=kind,
        machines=machines,
        iota_node_url=first.iota_node_url,
        iota_zmq_url=first.iota_zmq_url,
        iota_node_timeout=first.iota_node_timeout,
    )
