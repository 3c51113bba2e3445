"""Money on the devnet (issue 20), the grid as a real process and PyOTA as the paying
client: a payment that reaches a request address after the grid swept it is reported and
never paid out (the grid's books equal its wallet to the token); paying less and more than
asked follows docs/grid.md ("Paying more or less than asked")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.db import sqlite_url
from shared.iota.wallet import Wallet
from tests.integration.grid.parties import Party, wait_for
from tests.integration.grid.test_grid_flow import accounts, start_grid, trade_one_slice
from tests.integration.robot.machines import ServiceProcess
from tests.support.devnet import DevnetProcess
from tests.support.pyota_payer import PyotaPayer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


def grid_wallet(grid: ServiceProcess, devnet: DevnetProcess, data: Path) -> Wallet:
    """The grid's own wallet, read from its database (the same seed and rows)."""
    return Wallet(
        grid.env["SEED"], devnet.api_url, sqlite_url(data.resolve(), "grid"), min_weight_magnitude=9
    )


def assert_books_equal_wallet(books: dict[str, Any], wallet: Wallet) -> None:
    """What the books say the grid holds (received minus paid out: its cut, money waiting
    for producers and consumers' credit) is what its wallet can spend, to the token."""
    totals = books["totals"]
    held = totals["cut"] + totals["waiting"] + totals["credit"]
    assert totals["received"] - totals["paidOut"] == held, totals
    wait_for(
        f"the grid's wallet to hold {held} spendable",
        lambda: wallet.spendable_balance() == held and wallet.balance() == held,
        60,
    )


def swept(devnet: DevnetProcess, address: str) -> bool:
    spent: list[bool] = devnet.command("wereAddressesSpentFrom", addresses=[address])["states"]
    return spent[0] and devnet.command("getBalances", addresses=[address], threshold=100)[
        "balances"
    ] == ["0"]


def test_late_payment_to_a_swept_request_address_is_reported_not_paid_out(
    devnet: DevnetProcess, tmp_path: Path, grid_factory: list[ServiceProcess]
) -> None:
    data = tmp_path / "grid"
    grid = start_grid(devnet, data, grid_factory)
    wind = Party(devnet, tmp_path, "PRODUCER9WIND")
    jake = Party(devnet, tmp_path, "CONSUMER9JAKE")
    payer = PyotaPayer(devnet, 1000)
    wallet = grid_wallet(grid, devnet, data)
    try:
        assert wind.register(grid.url, "producer").status_code == 200
        assert jake.register(grid.url, "consumer").status_code == 200
        trade_one_slice(grid, [(wind, 1.0, 100)], jake)  # 0.4 kWh x 100 = 40 tokens
        request = wait_for("a payment request", lambda: jake.payment_requests(), 60)[0]
        address = request.payment_id_or_address
        assert request.owed == 40
        payer.pay(address, 40)
        books = wait_for(
            "the producer paid",
            lambda: (b := accounts(grid))["totals"]["paidOut"] == 32 and b,
            120,
        )
        wait_for("the request address swept", lambda: swept(devnet, address), 60)

        # 77 tokens late, to the request address the grid has swept
        payer.pay(address, 77)
        books = wait_for(
            "the late payment reported",
            lambda: (b := accounts(grid))["latePayments"] and b,
            60,
        )
        assert books["latePayments"][0]["late"] == 77
        assert books["latePayments"][0]["address"] == address
        assert books["consumers"]["CONSUMER9JAKE"]["late"] == 77
        totals = books["totals"]
        assert (totals["received"], totals["cut"], totals["late"]) == (40, 8, 77)
        assert totals["paidOut"] + totals["waiting"] == 32
        # nothing of the 77 is paid onward: the producer got its share of 40, once
        wait_for("wind's balance", lambda: wind.wallet.balance() == 32, 60)
        assert accounts(grid)["producers"]["PRODUCER9WIND"]["paidOut"] == 32
        assert_books_equal_wallet(accounts(grid), wallet)
        log = grid.log_path.read_text()
        assert "event=payment_late" in log and "late=77" in log
    finally:
        wallet.close()
        for party in (wind, jake):
            party.close()


def test_underpay_then_overpay_a_request(
    devnet: DevnetProcess, tmp_path: Path, grid_factory: list[ServiceProcess]
) -> None:
    data = tmp_path / "grid"
    # held long enough for both payments to land before the sweep
    grid = start_grid(devnet, data, grid_factory, payment_address_hold_seconds=40)
    wind = Party(devnet, tmp_path, "PRODUCER9WIND")
    jake = Party(devnet, tmp_path, "CONSUMER9JAKE")
    payer = PyotaPayer(devnet, 1000)
    wallet = grid_wallet(grid, devnet, data)
    try:
        assert wind.register(grid.url, "producer").status_code == 200
        assert jake.register(grid.url, "consumer").status_code == 200
        trade_one_slice(grid, [(wind, 1.0, 100)], jake)
        request = wait_for("a payment request", lambda: jake.payment_requests(), 60)[0]
        address = request.payment_id_or_address
        assert request.owed == 40

        # less than asked: the request waits, the partial sum is visible
        payer.pay(address, 10)
        books = wait_for(
            "the partial payment booked",
            lambda: (b := accounts(grid))["totals"]["received"] == 10 and b,
            60,
        )
        consumer = books["consumers"]["CONSUMER9JAKE"]
        assert (consumer["paid"], consumer["owed"], consumer["credit"]) == (10, 30, 0)

        # more than asked: 30 settle the request, 70 are the consumer's visible credit
        payer.pay(address, 100)
        books = wait_for(
            "the overpayment booked",
            lambda: (b := accounts(grid))["totals"]["received"] == 110 and b,
            60,
        )
        consumer = books["consumers"]["CONSUMER9JAKE"]
        assert (consumer["paid"], consumer["owed"], consumer["credit"]) == (110, 0, 70)
        totals = books["totals"]
        assert (totals["cut"], totals["credit"], totals["late"]) == (2 + 6, 70, 0)
        # only the 40 asked is shared out (8 + 24), never the credit
        books = wait_for(
            "the producer paid",
            lambda: (b := accounts(grid))["totals"]["paidOut"] == 32 and b,
            120,
        )
        wait_for("wind's balance", lambda: wind.wallet.balance() == 32, 60)
        assert_books_equal_wallet(books, wallet)
        status = httpx.get(f"{grid.url}/health", timeout=10)
        assert status.status_code == 200, status.text
    finally:
        wallet.close()
        for party in (wind, jake):
            party.close()
