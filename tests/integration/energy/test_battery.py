"""The battery as a real process on a real devnet with a grid, a producer and a consumer
(tests/integration/energy/parties.py): it buys in slices the grid priced cheap, sells in
slices it priced dear, pays the grid's requests and is paid by the grid on the devnet, and
every service's books equal its wallet.

Nothing but the producer's price schedule (PRODUCER_PRICE_SCHEDULE, docs/producer.md) moves
the price: a simulated day of 24 four-second slices, 2 tokens per kWh from midnight and 100
from noon. The producer has no sources (it quotes 0 kWh every slice), so a slice's price
is the mean of the quotes while nobody delivers: 2 and the battery's 20 make 11, below the
battery's BUY_BELOW of 15; 100 and 20 make 60, above its SELL_ABOVE of 20, and a slice the
battery sells in is priced at its asking price (the going price). The test only watches."""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from services.battery.policy import Decision, decide
from tests.integration.energy.parties import economy_specs, patient_devnet, start_all
from tests.integration.robot.machines import ServiceProcess, machine_env
from tests.support.audit import Economy

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]

HTTP = httpx.Client(timeout=120)
SLICE = 4
# A simulated day of 24 slices (one simulated hour each): cheap from midnight, dear from noon.
TIME_SCALE = 3600 / SLICE
SCHEDULE = "0:2,12:100"
BUY_BELOW, SELL_ABOVE = 15, 20
T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 600) -> T:
    """Poll ``probe`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except (httpx.HTTPError, KeyError, ValueError) as error:
            last = repr(error)
        else:
            if last:
                return last
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def test_the_decision_keeps_within_thresholds_capacity_and_rate() -> None:
    def at(price: float | None, charge: float) -> Decision:
        return decide(charge=charge, capacity=3, rate=1, price=price, buy_below=15, sell_above=20)

    assert at(None, 1) == Decision("idle", 0.0)  # nothing priced yet
    assert at(11, 0) == Decision("buy", 1)
    assert at(11, 2.5) == Decision("buy", 0.5)  # only the room left
    assert at(11, 3) == Decision("idle", 0.0)  # full
    assert at(15, 0) == Decision("idle", 0.0)  # between the thresholds (bounds excluded)
    assert at(20, 3) == Decision("idle", 0.0)
    assert at(60, 3) == Decision("sell", 1)
    assert at(60, 0.25) == Decision("sell", 0.25)  # only what is left
    assert at(60, 0) == Decision("idle", 0.0)  # empty


@pytest.fixture
def economy(tmp_path: Path) -> Iterator[dict[str, Any]]:
    with contextlib.ExitStack() as stack:
        devnet = stack.enter_context(patient_devnet(tmp_path / "devnet"))
        specs = economy_specs(devnet, tmp_path, secrets.token_hex(16), slice_seconds=SLICE)
        # no sources: the producer quotes 0 kWh, so the battery's quote counts in the price
        specs = [spec for spec in specs if spec[0] not in ("wind", "solar")]
        grid_env = next(env for module, env, _ in specs if module == "grid")
        producer_env = next(env for module, env, _ in specs if module == "producer")
        producer_env["PRODUCER_PRICE_SCHEDULE"] = SCHEDULE
        producer_env["TIME_SCALE"] = str(TIME_SCALE)
        producer_env["SIM_START_HOUR"] = "0"
        battery_env = machine_env(
            devnet,
            "battery",
            tmp_path / "battery",
            grid_url=f"http://127.0.0.1:{grid_env['PORT']}",
            faucet_url=devnet.api_url,
            faucet_amount=100_000,
            faucet_interval=5,
            slice_seconds=SLICE,
            poll_seconds=0.5,
            min_weight_magnitude=devnet.mwm,
            capacity=3,
            charge_rate=1,
            initial_charge=0,
            buy_below=BUY_BELOW,
            sell_above=SELL_ABOVE,
        )
        specs.append(("battery", battery_env, tmp_path / "battery"))
        grid, producer, consumer, battery = start_all(specs, stack)
        yield {
            "devnet": devnet,
            "grid": grid,
            "producer": producer,
            "consumer": consumer,
            "battery": battery,
        }


def _status(battery: ServiceProcess) -> dict[str, Any]:
    status: dict[str, Any] = HTTP.get(battery.url + "/battery").json()
    return status


def _prices(grid: ServiceProcess) -> dict[int, float]:
    return {row["startTime"]: row["price"] for row in HTTP.get(grid.url + "/prices").json()}


def _priced(grid: ServiceProcess, rows: list[dict[str, Any]]) -> dict[int, float] | None:
    """The grid's prices once every slice of ``rows`` is priced (None until then)."""
    prices = _prices(grid)
    return prices if all(row["startTime"] in prices for row in rows) else None


def scheduled_price(start_ms: int) -> int:
    """SCHEDULE's price of the slice starting at ``start_ms`` (simulated hour at epoch 0: 0)."""
    hour = (start_ms / 1000 * TIME_SCALE) % 86_400 / 3600
    return 2 if hour < 12 else 100


def test_the_battery_buys_cheap_sells_dear_and_its_books_equal_its_wallet(
    economy: dict[str, Any],
) -> None:
    grid, producer, battery = economy["grid"], economy["producer"], economy["battery"]

    # -- registered with its declared role, with a return channel --------------------------
    row = wait_for(
        "the battery registered with the grid",
        lambda: next(
            (r for r in HTTP.get(grid.url + "/registrations").json() if r["itemType"] == "battery"),
            None,
        ),
    )
    assert row["role"] == "both" and row["returnRoot"] and len(row["returnRoot"]) == 81

    # -- cheap slices: it charges and pays the grid's requests ------------------------------
    wait_for(
        "the battery to buy 2 kWh and pay for them",
        lambda: (s := _status(battery))["bought"] >= 2 and s["paid"] > 0 and s,
    )
    bought: list[dict[str, Any]] = HTTP.get(battery.url + "/usage?limit=500").json()["usage"]
    assert bought and all(0 < u["usage"] <= 1 for u in bought)  # the charge rate
    prices = wait_for("the grid to price the slices it bought in", lambda: _priced(grid, bought))
    assert any(prices[u["startTime"]] < BUY_BELOW for u in bought), (bought, prices)
    payments = HTTP.get(battery.url + "/payments?limit=500").json()
    assert any(r["state"] in ("sent", "confirmed") for r in payments["requests"])

    # -- dear slices: the schedule turns to 100, the battery discharges and is paid ---------
    status = wait_for(
        "the battery to sell and be paid",
        lambda: (s := _status(battery))["sold"] > 0 and s["received"] > 0 and s,
    )
    sold = [
        s for s in HTTP.get(battery.url + "/slices?limit=500").json()["slices"] if s["output"] > 0
    ]
    assert sold and all(s["output"] <= 1 for s in sold)
    prices = wait_for("the grid to price the slices it sold in", lambda: _priced(grid, sold))
    assert any(prices[s["startTime"]] > SELL_ABOVE for s in sold), (sold, prices)
    # it bought before it sold (it started empty), and the producer asked by the schedule
    assert min(u["startTime"] for u in bought) < min(s["startTime"] for s in sold)
    quoted = HTTP.get(producer.url + "/slices?limit=500").json()["slices"]
    assert {q["producerPrice"] for q in quoted} == {2, 100}, quoted
    assert all(q["producerPrice"] == scheduled_price(q["startTime"]) for q in quoted), quoted
    assert 0 <= status["stateOfCharge"] <= 3
    assert status["stateOfCharge"] == pytest.approx(status["bought"] - status["sold"], abs=1e-6)
    assert status["profit"] == status["received"] - status["paid"]
    # the grid booked it as a producer it paid out to, and as a consumer that paid
    accounts = HTTP.get(grid.url + "/accounts").json()
    battery_id = row["registrationId"]
    assert battery_id in accounts["producers"] and battery_id in accounts["consumers"]

    # -- every token accounted for: books equal wallets, the supply whole ------------------
    audit = Economy(economy["devnet"].api_url)
    audit.add(grid.url, producer.url, economy["consumer"].url, battery.url)
    result = audit.check(timeout=180)
    books = result.row("battery")
    assert books.books is not None and books.books == books.wallet
