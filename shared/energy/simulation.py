"""Energy models of the seed-001 grid: wind and solar output, household load.

Every model is a pure function of wall-clock time and ``SIM_SEED``: the same slice gives the
same kWh in every process, after every restart and on every run, so a demo is reproducible
and a restarted source re-publishes exactly what it would have published.

Simulated time runs ``TIME_SCALE`` times faster than the wall clock (the sun rises in
minutes at 360), and energy is integrated over the *simulated* duration of a slice: a 10 s
slice at TIME_SCALE 360 is one simulated hour, so a 3 kW turbine reports about 3 kWh.

- :class:`WindTurbine`: a wind-speed process (slow weather + gusts, never negative) through
  a turbine power curve (nothing below cut-in, cubic up to rated, rated up to cut-out, then
  stopped to protect the machine).
- :class:`SolarPanel`: a clear-sky day curve (sunrise to sunset) times passing clouds.
- :class:`HouseholdLoad`: a base load with morning and evening peaks; two profiles
  (``family``, ``commuter``) and a little noise.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Literal, Protocol

__all__ = [
    "PROFILES",
    "EnergyModel",
    "HouseholdLoad",
    "LoadProfile",
    "SimClock",
    "SolarPanel",
    "WindTurbine",
    "energy_kwh",
    "value_noise",
]

_DAY = 86_400.0
# Samples per slice for the integral: enough for gusts, cheap enough for thousands of slices.
_SAMPLES = 24


def _unit(seed: int, stream: str, step: int) -> float:
    """A uniform number in [-1, 1), fixed by (seed, stream, step): reproducible everywhere."""
    digest = hashlib.blake2b(f"{seed}:{stream}:{step}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**63 - 1.0


def value_noise(seed: int, stream: str, t: float, period: float) -> float:
    """Smooth noise in [-1, 1]: random values every ``period`` seconds, cosine-interpolated."""
    position = t / period
    step = math.floor(position)
    frac = position - step
    weight = (1 - math.cos(math.pi * frac)) / 2
    a, b = _unit(seed, stream, step), _unit(seed, stream, step + 1)
    return a + (b - a) * weight


@dataclass(frozen=True, slots=True)
class SimClock:
    """Wall-clock milliseconds -> simulated seconds (every process agrees on the time of day).

    ``start_hour`` shifts the simulated day so a demo can begin at dawn. ``epoch_ms`` is the
    wall-clock moment simulated time starts from (default the Unix epoch): a scenario sets it
    to a slice boundary of its run, so slice k of every run covers the same simulated span
    and gets the same kWh (the models' noise is keyed on the simulated time).
    """

    time_scale: float = 1.0
    start_hour: float = 0.0
    epoch_ms: int = 0

    def __post_init__(self) -> None:
        if not self.time_scale > 0:
            raise ValueError("time_scale must be positive")

    def simulated(self, wall_ms: int | float) -> float:
        # the difference first, in integers: the same offset gives the same float everywhere
        return (wall_ms - self.epoch_ms) / 1000.0 * self.time_scale + self.start_hour * 3600.0

    def hour_of_day(self, wall_ms: int | float) -> float:
        return (self.simulated(wall_ms) % _DAY) / 3600.0


class EnergyModel(Protocol):
    """Anything that gives kW at a simulated second."""

    def power_kw(self, sim_seconds: float) -> float: ...


def energy_kwh(model: EnergyModel, clock: SimClock, start_ms: int, end_ms: int) -> float:
    """kWh over the simulated span of [start_ms, end_ms): the mean of midpoint samples."""
    if end_ms <= start_ms:
        return 0.0
    start, end = clock.simulated(start_ms), clock.simulated(end_ms)
    width = (end - start) / _SAMPLES
    mean_kw = sum(model.power_kw(start + (i + 0.5) * width) for i in range(_SAMPLES)) / _SAMPLES
    return round(mean_kw * (end - start) / 3600.0, 6)


@dataclass(frozen=True, slots=True)
class WindTurbine:
    """A small turbine: cut-in 3 m/s, rated 12 m/s at ``rated_kw``, cut-out 25 m/s."""

    seed: int = 0
    rated_kw: float = 5.0
    cut_in: float = 3.0
    rated_speed: float = 12.0
    cut_out: float = 25.0
    mean_speed: float = 8.0

    def __post_init__(self) -> None:
        if not 0 <= self.cut_in < self.rated_speed < self.cut_out:
            raise ValueError("need 0 <= cut_in < rated_speed < cut_out")
        if self.rated_kw <= 0 or self.mean_speed <= 0:
            raise ValueError("rated_kw and mean_speed must be positive")

    def wind_speed(self, sim_seconds: float) -> float:
        """m/s: weather over hours, gusts over minutes, and a calmer night; never negative."""
        weather = value_noise(self.seed, "wind-weather", sim_seconds, 6 * 3600.0)
        gusts = value_noise(self.seed, "wind-gust", sim_seconds, 300.0)
        diurnal = math.sin(2 * math.pi * (sim_seconds % _DAY) / _DAY - math.pi / 2)
        speed = self.mean_speed * (1 + 0.55 * weather + 0.15 * diurnal) + 2.5 * gusts
        return max(0.0, speed)

    def power_curve(self, speed: float) -> float:
        """kW at a wind speed: the turbine's power curve."""
        if speed < self.cut_in or speed >= self.cut_out:
            return 0.0
        if speed >= self.rated_speed:
            return self.rated_kw
        # Power grows with the cube of the speed between cut-in and rated.
        span = self.rated_speed**3 - self.cut_in**3
        return self.rated_kw * (speed**3 - self.cut_in**3) / span

    def power_kw(self, sim_seconds: float) -> float:
        return self.power_curve(self.wind_speed(sim_seconds))


@dataclass(frozen=True, slots=True)
class SolarPanel:
    """``peak_kw`` of panels: a day curve from ``sunrise`` to ``sunset`` times the clouds."""

    seed: int = 0
    peak_kw: float = 4.0
    sunrise: float = 6.0
    sunset: float = 18.0
    cloudiness: float = 0.5

    def __post_init__(self) -> None:
        if not 0 <= self.sunrise < self.sunset <= 24:
            raise ValueError("need 0 <= sunrise < sunset <= 24")
        if self.peak_kw <= 0 or not 0 <= self.cloudiness <= 1:
            raise ValueError("peak_kw must be positive and cloudiness within 0..1")

    def clear_sky(self, hour: float) -> float:
        """0..1: the sun's height over the day (zero at night)."""
        if not self.sunrise < hour < self.sunset:
            return 0.0
        return math.sin(math.pi * (hour - self.sunrise) / (self.sunset - self.sunrise)) ** 1.3

    def clouds(self, sim_seconds: float) -> float:
        """0..1 of the clear-sky light that gets through: overcast days and passing clouds."""
        day = value_noise(self.seed, "solar-day", sim_seconds, _DAY)
        passing = value_noise(self.seed, "solar-cloud", sim_seconds, 900.0)
        cover = self.cloudiness * (0.5 + 0.3 * day + 0.4 * max(0.0, passing))
        return max(0.1, min(1.0, 1.0 - cover))

    def power_kw(self, sim_seconds: float) -> float:
        hour = (sim_seconds % _DAY) / 3600.0
        return self.peak_kw * self.clear_sky(hour) * self.clouds(sim_seconds)


@dataclass(frozen=True, slots=True)
class LoadProfile:
    """A household's day: base load plus Gaussian peaks ``(hour, kW, width in hours)``."""

    base_kw: float
    peaks: tuple[tuple[float, float, float], ...]

    def kw_at(self, hour: float) -> float:
        total = self.base_kw
        for centre, height, width in self.peaks:
            # The day wraps: a peak at 23:00 also raises 00:30.
            distance = min(abs(hour - centre), 24 - abs(hour - centre))
            total += height * math.exp(-0.5 * (distance / width) ** 2)
        return total


ProfileName = Literal["family", "commuter"]

PROFILES: dict[str, LoadProfile] = {
    # At home much of the day: breakfast, lunch, a long evening with cooking and washing.
    "family": LoadProfile(base_kw=0.4, peaks=((7.5, 1.6, 1.0), (12.5, 0.6, 1.0), (19.0, 2.4, 1.6))),
    # Out during the day: an early short morning and a late evening.
    "commuter": LoadProfile(base_kw=0.25, peaks=((6.5, 1.1, 0.6), (20.5, 1.8, 1.2))),
}


@dataclass(frozen=True, slots=True)
class HouseholdLoad:
    """A household of ``profile``, scaled by ``scale``, with +-``noise`` of random variation."""

    seed: int = 0
    profile: str = "family"
    scale: float = 1.0
    noise: float = 0.15

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise ValueError(f"profile must be one of {', '.join(sorted(PROFILES))}")
        if self.scale <= 0 or not 0 <= self.noise < 1:
            raise ValueError("scale must be positive and noise within 0..1")

    def power_kw(self, sim_seconds: float) -> float:
        hour = (sim_seconds % _DAY) / 3600.0
        wobble = value_noise(self.seed, f"load-{self.profile}", sim_seconds, 600.0)
        return self.scale * PROFILES[self.profile].kw_at(hour) * (1 + self.noise * wobble)
