"""The energy models: power curve edges, day curves, load peaks, reproducibility, TIME_SCALE."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.energy.simulation import (
    PROFILES,
    HouseholdLoad,
    SimClock,
    SolarPanel,
    WindTurbine,
    energy_kwh,
    value_noise,
)

HOUR_MS = 3_600_000


def test_power_curve_cut_in_rated_cut_out() -> None:
    turbine = WindTurbine(rated_kw=5.0, cut_in=3.0, rated_speed=12.0, cut_out=25.0)
    assert turbine.power_curve(0.0) == 0.0
    assert turbine.power_curve(2.99) == 0.0
    assert turbine.power_curve(3.0) == 0.0
    assert 0 < turbine.power_curve(7.0) < turbine.power_curve(9.0) < 5.0
    assert turbine.power_curve(12.0) == 5.0
    assert turbine.power_curve(24.9) == 5.0
    assert turbine.power_curve(25.0) == 0.0  # stopped in a storm
    assert turbine.power_curve(40.0) == 0.0


@given(st.floats(min_value=0, max_value=10 * 86_400, allow_nan=False))
def test_wind_speed_is_never_negative_and_power_bounded(t: float) -> None:
    turbine = WindTurbine(seed=3)
    assert turbine.wind_speed(t) >= 0
    assert 0 <= turbine.power_kw(t) <= turbine.rated_kw


def test_wind_varies_over_time() -> None:
    turbine = WindTurbine(seed=1)
    speeds = {round(turbine.wind_speed(t * 600.0), 3) for t in range(200)}
    assert len(speeds) > 150


def test_solar_is_dark_at_night_and_brightest_around_noon() -> None:
    panel = SolarPanel(seed=2, peak_kw=4.0)
    day = 10 * 86_400.0
    assert panel.power_kw(day + 2 * 3600) == 0.0
    assert panel.power_kw(day + 23 * 3600) == 0.0
    assert panel.clear_sky(12.0) == pytest.approx(1.0)
    assert panel.clear_sky(8.0) < panel.clear_sky(12.0)
    assert 0 < panel.power_kw(day + 12 * 3600) <= 4.0


def test_clouds_dim_the_panel_but_never_below_a_tenth() -> None:
    panel = SolarPanel(seed=5, cloudiness=1.0)
    values = [panel.clouds(t * 450.0) for t in range(500)]
    assert min(values) >= 0.1 and max(values) <= 1.0
    assert max(values) - min(values) > 0.2


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_household_has_morning_and_evening_peaks(profile: str) -> None:
    shape = PROFILES[profile]
    night, morning, afternoon, evening = (shape.kw_at(h) for h in (3.0, 7.0, 15.0, 20.0))
    assert morning > night and morning > afternoon
    assert evening > afternoon and evening > night


def test_the_two_profiles_differ() -> None:
    family, commuter = PROFILES["family"], PROFILES["commuter"]
    assert [round(family.kw_at(h), 3) for h in range(24)] != [
        round(commuter.kw_at(h), 3) for h in range(24)
    ]


def test_same_seed_same_slice_same_energy() -> None:
    clock = SimClock(time_scale=360)
    start = 1_700_000_000_000
    for make in (
        lambda s: WindTurbine(seed=s),
        lambda s: SolarPanel(seed=s),
        lambda s: HouseholdLoad(seed=s, profile="commuter"),
    ):
        first = [
            energy_kwh(make(7), clock, start + i * 10_000, start + (i + 1) * 10_000)
            for i in range(50)
        ]
        again = [
            energy_kwh(make(7), clock, start + i * 10_000, start + (i + 1) * 10_000)
            for i in range(50)
        ]
        other = [
            energy_kwh(make(8), clock, start + i * 10_000, start + (i + 1) * 10_000)
            for i in range(50)
        ]
        assert first == again
        assert first != other


def test_time_scale_speeds_up_the_day() -> None:
    slow, fast = SimClock(time_scale=1), SimClock(time_scale=360)
    assert slow.simulated(10_000) - slow.simulated(0) == pytest.approx(10)
    assert fast.simulated(10_000) - fast.simulated(0) == pytest.approx(3600)
    # A whole simulated day passes in 240 s of wall clock at 360x.
    assert fast.hour_of_day(240_000) == pytest.approx(fast.hour_of_day(0))
    with pytest.raises(ValueError):
        SimClock(time_scale=0)


def test_energy_is_mean_power_times_simulated_duration() -> None:
    class Constant:
        def power_kw(self, sim_seconds: float) -> float:
            return 2.0

    assert energy_kwh(Constant(), SimClock(1), 0, HOUR_MS) == pytest.approx(2.0)
    assert energy_kwh(Constant(), SimClock(360), 0, 10_000) == pytest.approx(2.0)
    assert energy_kwh(Constant(), SimClock(1), 5, 5) == 0.0


def test_a_day_of_solar_makes_sense() -> None:
    clock = SimClock(time_scale=360)
    panel = SolarPanel(seed=1, peak_kw=4.0)
    # 240 s of wall clock = one simulated day, in 10 s slices (one simulated hour each).
    day = sum(energy_kwh(panel, clock, i * 10_000, (i + 1) * 10_000) for i in range(24))
    assert 5 < day < 4.0 * 12  # some clouds, never more than peak all day


@given(st.integers(0, 2**31), st.floats(0, 1e7, allow_nan=False))
def test_value_noise_is_bounded(seed: int, t: float) -> None:
    assert -1.0 <= value_noise(seed, "x", t, 60.0) <= 1.0


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError):
        WindTurbine(cut_in=10, rated_speed=5)
    with pytest.raises(ValueError):
        SolarPanel(sunrise=20, sunset=6)
    with pytest.raises(ValueError, match="profile"):
        HouseholdLoad(profile="factory")
