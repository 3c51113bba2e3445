"""The grid as a real process on a real devnet, with producers and consumers written by
the test on real MAM channels: registration as the seed says (``hello`` checked, a
return channel for the consumer), payment requests read from the return channel, a real
payment confirmed, producers paid their share, books balanced, ``goodbye`` honoured, and
a grid SIGKILLed between confirming a payment and paying producers paying each once.

A kill *during* a send: tests/integration/grid/test_payout_reconcile.py."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.grid.pricing import fee, largest_remainder
from shared.energy.messages import Goodbye, Hello, Output, ProducerOutput, Usage
from shared.energy.slices import now_ms, slice_at
from shared.iota.validation import with_checksum
from tests.integration.grid.conftest import grid_env
from tests.integration.grid.parties import Party, wait_for
from tests.integration.robot.machines import ServiceProcess
from tests.support.audit import Economy
from tests.support.devnet import DevnetProcess

pytestmark = pytest.mark.integration

SLICE = 3
AHEAD_MS = 8000


def accounts(grid: ServiceProcess) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{grid.url}/accounts", timeout=10).json()
    return body


def grid_economy(devnet: DevnetProcess, grid: ServiceProcess, *parties: Party) -> Economy:
    """The audit of this test's economy: the grid, and the test's parties as outside wallets."""
    economy = Economy(devnet.api_url)
    economy.add(grid.url)
    for party in parties:
        economy.wallet(party.registration_id, party.wallet)
    return economy


def assert_books_balance(books: dict[str, Any]) -> None:
    totals = books["totals"]
    assert (
        totals["received"]
        == totals["cut"] + totals["paidOut"] + totals["waiting"] + totals["credit"]
    ), totals


def start_grid(
    devnet: DevnetProcess,
    data_dir: Path,
    started: list[ServiceProcess],
    env: dict[str, str] | None = None,
    **extra: object,
) -> ServiceProcess:
    """A grid process; pass the ``env`` of an earlier one to restart it (same SEED, port)."""
    environment = dict(env) if env is not None else grid_env(devnet, data_dir)
    environment.update({key.upper(): str(value) for key, value in extra.items()})
    grid = ServiceProcess("grid", environment, data_dir)
    started.append(grid)
    return grid.start(timeout=240)


def trade_one_slice(
    grid: ServiceProcess, producers: list[tuple[Party, float, float]], consumer: Party
) -> int:
    """Producers quote (output, price) for a slice a little ahead (publishing takes about
    a second a message on a loaded machine), the consumer uses 0.4 kWh; the slice start."""
    slot = slice_at(now_ms() + AHEAD_MS, SLICE)
    for party, output, price in producers:
        party.publish(
            ProducerOutput(slot.start, slot.end, output, price, party.wallet.new_address("paid"))
        )
    consumer.publish(Usage(slot.start, slot.end, 0.4))
    return slot.start


@pytest.mark.timeout(600)
def test_trade_pay_and_payout(
    devnet: DevnetProcess, tmp_path: Path, grid_factory: list[ServiceProcess]
) -> None:
    grid = start_grid(devnet, tmp_path / "grid", grid_factory)
    wind = Party(devnet, tmp_path, "PRODUCER9WIND")
    solar = Party(devnet, tmp_path, "PRODUCER9SOLAR")
    jake = Party(devnet, tmp_path, "CONSUMER9JAKE")
    try:
        # a channel without hello is refused, saying why (409: nothing there yet)
        refused = wind.register(grid.url, "producer", hello=False)
        assert refused.status_code == 409, refused.text
        assert refused.json()["success"] is False
        assert "hello" in refused.json()["message"]
        # a first message that is not hello: 422
        solar.publish(Output(1000, 2000, 1.0))
        wrong = solar.register(grid.url, "producer", hello=False)
        assert wrong.status_code == 422 and "'output'" in wrong.json()["message"], wrong.text
        solar = Party(devnet, tmp_path / "solar2", "PRODUCER9SOLAR")

        assert wind.register(grid.url, "producer").json() == {"success": True, "message": "OK"}
        assert solar.register(grid.url, "producer").json() == {"success": True, "message": "OK"}
        answer = jake.register(grid.url, "consumer").json()
        assert answer["success"] is True and answer["message"] == "OK"
        assert len(answer["root"]) == 81 and len(answer["sideKey"]) == 81
        # the grid's return channel starts with hello
        assert jake.return_messages()[0] == Hello()
        # registering again is idempotent: the same return channel, no second hello
        again = jake.register(grid.url, "consumer", hello=False).json()
        assert (again["root"], again["sideKey"]) == (answer["root"], answer["sideKey"])

        # weighted price: (3 x 100 + 1 x 200) / 4 = 125 tokens/kWh; 0.4 kWh -> 50 tokens
        trade_one_slice(grid, [(wind, 3.0, 100), (solar, 1.0, 200)], jake)
        request = wait_for("a payment request", lambda: jake.payment_requests(), 60)[0]
        assert request.owed == 50 and request.usage == pytest.approx(0.4)
        assert len(request.payment_id_or_address) == 81
        assert jake.return_messages().count(Hello()) == 1

        # the consumer pays the request with a real signed transfer
        devnet.faucet(with_checksum(jake.wallet.new_address("top-up")), 1000)
        wait_for("funds", lambda: jake.wallet.spendable_balance() >= 50, 30)
        jake.wallet.send(request.owed, request.payment_id_or_address)

        cut = fee(50, 20)
        shares = largest_remainder(50 - cut, {"PRODUCER9WIND": 3.0, "PRODUCER9SOLAR": 1.0})
        assert shares == {"PRODUCER9WIND": 30, "PRODUCER9SOLAR": 10}

        def paid() -> dict[str, Any] | None:
            books = accounts(grid)
            producers = books["producers"]
            done = all(producers.get(p, {}).get("paidOut") == v for p, v in shares.items())
            return books if done else None

        books = wait_for("producer payouts", paid, 90)
        assert books["totals"] == {
            "received": 50,
            "cut": 10,
            "paidOut": 40,
            "waiting": 0,
            "credit": 0,
            "late": 0,
        }
        assert books["consumers"]["CONSUMER9JAKE"] == {
            "requested": 50,
            "paid": 50,
            "pending": 0,
            "owed": 0,
            "credit": 0,
            "late": 0,
        }
        assert books["producers"]["PRODUCER9WIND"]["output"] == pytest.approx(3.0)
        assert_books_balance(books)
        # the producers' confirmed balances grew by their shares
        wait_for("wind's balance", lambda: wind.wallet.balance() == 30, 30)
        wait_for("solar's balance", lambda: solar.wallet.balance() == 10, 30)
        prices = httpx.get(f"{grid.url}/prices", timeout=10).json()
        assert any(p["price"] == pytest.approx(125) and p["method"] == "weighted" for p in prices)

        # goodbye stops the reading: output published after it is never counted
        solar.publish(Goodbye())
        slot = slice_at(now_ms() + AHEAD_MS, SLICE)
        solar.publish(ProducerOutput(slot.start, slot.end, 50.0, 1, solar.wallet.new_address("x")))
        time.sleep(AHEAD_MS / 1000 + SLICE)
        assert accounts(grid)["producers"]["PRODUCER9SOLAR"]["output"] == pytest.approx(1.0)

        # the next request says what is still owed (unpaid requests add up)
        trade_one_slice(grid, [(wind, 2.0, 100)], jake)
        second = wait_for("a second request", lambda: jake.payment_requests()[1:], 60)[0]
        assert second.owed == 40 and second.usage == pytest.approx(0.4)  # 0.4 x 100
        assert second.payment_id_or_address != request.payment_id_or_address
        assert_books_balance(accounts(grid))
        # every token accounted for: the grid's books (50 in, 40 out) equal its wallet
        audit = grid_economy(devnet, grid, wind, solar, jake).check()
        assert audit.row("grid").books == 10
    finally:
        for party in (wind, solar, jake):
            party.close()


@pytest.mark.timeout(600)
def test_sigkill_between_confirming_and_paying_pays_each_producer_once(
    devnet: DevnetProcess, tmp_path: Path, grid_factory: list[ServiceProcess]
) -> None:
    data = tmp_path / "grid"
    # Payouts start the moment a payment confirms, so the kill below lands before, during
    # or after the first payout's send (signed or not, recorded or not): whichever it is,
    # the restarted grid pays each producer exactly once.
    grid = start_grid(devnet, data, grid_factory, payout_interval_seconds=3600)
    wind = Party(devnet, tmp_path, "PRODUCER9WIND")
    solar = Party(devnet, tmp_path, "PRODUCER9SOLAR")
    jake = Party(devnet, tmp_path, "CONSUMER9JAKE")
    try:
        for party, kind in ((wind, "producer"), (solar, "producer"), (jake, "consumer")):
            assert party.register(grid.url, kind).status_code == 200
        trade_one_slice(grid, [(wind, 3.0, 100), (solar, 1.0, 200)], jake)
        request = wait_for("a payment request", lambda: jake.payment_requests(), 60)[0]
        devnet.faucet(with_checksum(jake.wallet.new_address("top-up")), 1000)
        wait_for("funds", lambda: jake.wallet.spendable_balance() >= 50, 30)
        jake.wallet.send(request.owed, request.payment_id_or_address)

        def confirmed_not_paid() -> dict[str, Any] | None:
            books = accounts(grid)
            return books if books["totals"]["received"] == 50 else None

        books = wait_for("the payment confirmed", confirmed_not_paid, 60)
        grid.kill()
        totals = books["totals"]
        assert (totals["received"], totals["cut"]) == (50, 10)
        assert totals["paidOut"] + totals["waiting"] == 40

        # restarted (same SEED and database) with fast payouts: each producer paid, once
        grid = start_grid(devnet, data, grid_factory, grid.env, payout_interval_seconds=0.5)

        def all_paid() -> dict[str, Any] | None:
            books = accounts(grid)
            return books if books["totals"]["paidOut"] == 40 else None

        books = wait_for("every producer paid", all_paid, 90)
        assert books["producers"]["PRODUCER9WIND"]["paidOut"] == 30
        assert books["producers"]["PRODUCER9SOLAR"]["paidOut"] == 10
        assert_books_balance(books)
        # exactly once on the tangle: the confirmed balances are the shares, not twice
        wait_for("wind's balance", lambda: wind.wallet.balance() == 30, 30)
        wait_for("solar's balance", lambda: solar.wallet.balance() == 10, 30)
        time.sleep(3)  # a second payout would have been sent by now
        assert wind.wallet.balance() == 30 and solar.wallet.balance() == 10
        assert accounts(grid)["totals"]["paidOut"] == 40
        audit = grid_economy(devnet, grid, wind, solar, jake).check()
        assert audit.row("grid").books == 10
    finally:
        for party in (wind, solar, jake):
            party.close()
