"""The seller's day profile of prices (PRODUCER_PRICE_SCHEDULE, shared/energy/seller.py):
its format, the price of a slice by its simulated hour, and the demo's schedule against the
demo battery's thresholds (docker-compose.yml): it must buy and sell within minutes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from shared.energy.seller import PriceSchedule, SellerSettings
from shared.energy.slices import Slice
from shared.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]
SEED = "A" * 81


def test_each_step_holds_until_the_next_and_the_last_wraps_past_midnight() -> None:
    schedule = PriceSchedule.parse(" 6:100, 17:250 ,22:20")
    assert schedule.steps == ((6.0, 100), (17.0, 250), (22.0, 20))
    prices = {hour: schedule.price_at(hour) for hour in (0, 5.99, 6, 16.5, 17, 21.99, 22, 23.9)}
    assert prices == {0: 20, 5.99: 20, 6: 100, 16.5: 100, 17: 250, 21.99: 250, 22: 20, 23.9: 20}
    assert PriceSchedule.parse("0:7").price_at(13) == 7


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "give at least one <hour>:<price>"),
        ("17", "'17': use <hour>:<price>"),
        ("17:dear", "use <hour>:<price>"),
        ("17:2.5", "use <hour>:<price>"),  # whole tokens
        ("24:10", "'24:10': the hour must be from 0 to below 24"),
        ("-1:10", "the hour must be from 0"),
        ("nan:10", "the hour must be from 0"),
        ("6:-1", "'6:-1': the price must be from 0 to 1000000000000"),
        ("6:1000000000001", "the price must be from 0"),
        ("6:10,6:20", "'6:20': the hours must increase"),
        ("17:10,6:20", "the hours must increase"),
    ],
)
def test_a_wrong_step_is_named(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        PriceSchedule.parse(text)


def settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> SellerSettings:
    monkeypatch.setenv("SEED", SEED)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return load_settings(SellerSettings)


def test_a_slice_is_priced_at_the_simulated_hour_it_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 10 s slices, 360 simulated seconds per second: a slice is a simulated hour, the
    # day 240 s; at epoch 0 it is 06:00
    seller = settings(
        monkeypatch,
        PRODUCER_PRICE="100",
        PRODUCER_PRICE_SCHEDULE="0:20,6:100,17:250,21:100",
        TIME_SCALE="360",
        SIM_START_HOUR="6",
    )
    day = 240_000

    def at(hour: int) -> int:
        start = 5 * day + (hour - 6) % 24 * 10_000
        return seller.price_for(Slice(start, start + 10_000))

    assert [at(h) for h in (0, 5, 6, 16, 17, 20, 21, 23)] == [20, 20, 100, 100, 250, 250, 100, 100]


def test_without_a_schedule_every_slice_asks_producer_price(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seller = settings(monkeypatch, PRODUCER_PRICE="42")
    assert seller.producer_price_schedule == ""
    assert {seller.price_for(Slice(t, t + 1000)) for t in range(0, 86_400_000, 3_600_000)} == {42}


def test_a_bad_schedule_stops_the_seller_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SettingsError) as info:
        settings(monkeypatch, PRODUCER_PRICE_SCHEDULE="6:10,25:5")
    assert "PRODUCER_PRICE_SCHEDULE: Value error, '25:5': the hour must be from 0" in str(
        info.value
    )
    assert SEED not in capsys.readouterr().err


def test_the_demo_battery_buys_and_sells_within_the_first_minutes() -> None:
    """docker-compose.yml: on the demo's clock (a slice a simulated hour) every stretch of
    a simulated day has cheap slices the battery buys in and dear ones it sells in."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]

    def default(value: str) -> str:
        match = re.fullmatch(r"\$\{[A-Z0-9_]+:?-(.*)\}", str(value))
        assert match, value
        return match.group(1)

    producer, battery = services["producer"]["environment"], services["battery"]["environment"]
    schedule = PriceSchedule.parse(default(producer["PRODUCER_PRICE_SCHEDULE"]))
    buy_below = float(default(battery["BUY_BELOW"]))
    sell_above = float(default(battery["SELL_ABOVE"]))
    energy = compose["x-energy-env"]
    slice_seconds = float(default(energy["SLICE_SECONDS"]))
    time_scale = float(default(energy["TIME_SCALE"]))
    hours_per_slice = slice_seconds * time_scale / 3600
    assert hours_per_slice == 1
    prices = [schedule.price_at(hour) for hour in range(24)]
    # a slice nobody delivers in (a calm night) is priced at the mean of the quotes: the
    # producer's and the battery's own (at least SELL_ABOVE): still cheap enough to buy
    cheap = [max(p, (p + sell_above) / 2) < buy_below for p in prices]
    dear = [p > sell_above for p in prices]
    assert sum(cheap) >= 6 and sum(dear) >= 4, prices

    def longest_wait(hit: list[bool]) -> int:
        """The most slices in a row, around the clock, without a hit."""
        run = best = 0
        for flag in hit + hit:
            run = 0 if flag else run + 1
            best = max(best, run)
        return best

    # whenever the demo starts, a cheap slice comes within 80 s and a dear one within
    # 100 s of any moment, so it has bought and sold within its first four minutes or so
    assert longest_wait(cheap) * slice_seconds <= 80, prices
    assert longest_wait(dear) * slice_seconds <= 100, prices
