"""The whole seed-001 flow as real processes on a real devnet: wind and solar register with
the producer, the producer and a consumer register with the grid, the grid bills the
consumer on its return channel, the consumer pays with signed transfers (topping itself up
from the faucet), the grid pays the producer, and the books balance to the token; a
source's goodbye stops its reading."""

from __future__ import annotations

import contextlib
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from shared.db import make_engine, make_sessionmaker, sqlite_url
from shared.energy.channels import ChannelBook
from shared.energy.messages import Goodbye, Hello, Output, PaymentRequest, decode_trytes
from shared.energy.models import STORE as ENERGY_STORE
from shared.iota.transaction import parse_many
from shared.mam.tangle import ChannelReader, NodeApi
from shared.migrations import upgrade
from tests.integration.energy.parties import economy_specs, patient_devnet, start_all
from tests.support.audit import Economy
from tests.support.devnet import DevnetProcess

# Generous: the machine the suite runs on may be busy.
HTTP = httpx.Client(timeout=120)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]

SLICE = 4
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


@pytest.fixture
def economy(tmp_path: Path) -> Iterator[dict[str, Any]]:
    token = secrets.token_hex(16)
    with contextlib.ExitStack() as stack:
        # MWM 1: proof of work costs nothing, so a busy machine still keeps up with the slices.
        devnet: DevnetProcess = stack.enter_context(patient_devnet(tmp_path / "devnet"))
        specs = economy_specs(devnet, tmp_path, token, slice_seconds=SLICE)
        grid, producer, wind, solar, consumer = start_all(specs, stack)
        yield {
            "devnet": devnet,
            "grid": grid,
            "producer": producer,
            "consumer": consumer,
            "sources": {"wind": wind, "solar": solar},
            "token": token,
            "tmp": tmp_path,
        }


def return_channel_key(consumer_dir: Path) -> tuple[str, str]:
    """The grid's answer as the consumer stored it (root and sideKey of the return channel)."""
    path = next(consumer_dir.glob("*.sqlite"))
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        row = db.execute("SELECT answer_root, answer_side_key FROM energy_participant").fetchone()
    assert row is not None and row[0] and row[1]
    return row[0], row[1]


def test_energy_flow_end_to_end(economy: dict[str, Any]) -> None:
    grid, producer, consumer = economy["grid"], economy["producer"], economy["consumer"]
    wind, solar = economy["sources"]["wind"], economy["sources"]["solar"]
    devnet: DevnetProcess = economy["devnet"]

    # -- registrations, answered as the seed says ------------------------------------------
    def registered() -> list[dict[str, Any]] | None:
        rows = HTTP.get(grid.url + "/registrations").json()
        types = sorted(r["itemType"] for r in rows)
        return rows if types == ["consumer", "producer"] else None

    rows = wait_for("producer and consumer registered with the grid", registered)
    consumer_row = next(r for r in rows if r["itemType"] == "consumer")
    assert consumer_row["returnRoot"] and len(consumer_row["returnRoot"]) == 81
    sources = wait_for(
        "wind and solar registered with the producer",
        lambda: (s := HTTP.get(producer.url + "/sources").json()["sources"]) and len(s) == 2 and s,
    )
    assert sorted(s["itemType"] for s in sources) == ["solar", "wind"]
    assert all(s["following"] for s in sources)

    # A registration made by the test itself shows the grid's answer body to a consumer.
    engine = make_engine(sqlite_url(economy["tmp"] / "test-channel", "test"))
    upgrade(engine, ENERGY_STORE)
    with NodeApi(devnet.api_url) as node:
        book = ChannelBook(node, make_sessionmaker(engine), mwm=devnet.mwm)
        own = book.ensure("own")
        book.publish("own", Hello())
        answer = HTTP.put(
            f"{grid.url}/registration/TEST9CONSUMER9001",
            json={
                "itemName": "Jake",
                "itemType": "consumer",
                "root": own.root,
                "sideKey": own.side_key,
            },
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert list(body) == ["success", "message", "root", "sideKey"]
        assert body["success"] is True and body["message"] == "OK"
        assert len(body["root"]) == 81 and len(body["sideKey"]) == 81
        gone = HTTP.delete(f"{grid.url}/registration/TEST9CONSUMER9001/{own.side_key}")
        assert gone.json() == {"success": True, "message": "OK"}

    # -- the consumer pays what the grid asks ----------------------------------------------
    def paid() -> dict[str, Any] | None:
        payments = HTTP.get(consumer.url + "/payments").json()
        done = [r for r in payments["requests"] if r["state"] in ("sent", "confirmed")]
        return payments if done else None

    payments = wait_for("the consumer's first payment", paid, timeout=600)
    assert payments["paid"] > 0

    # -- the return channel, read with shared.mam: hello, then payment requests ---------------
    root, side_key = return_channel_key(economy["tmp"] / "consumer")
    assert root == consumer_row["returnRoot"]
    with NodeApi(devnet.api_url) as node:
        messages = ChannelReader(node, "restricted", side_key).fetch_all(root, limit=200)
    decoded = [decode_trytes(m.message) for m in messages]
    assert isinstance(decoded[0], Hello)
    requests = [m for m in decoded[1:] if isinstance(m, PaymentRequest)]
    assert requests and len(requests) == len(decoded) - 1
    assert all(len(r.payment_id_or_address) in (81, 90) for r in requests)
    # Every request the consumer recorded came from this channel, in order.
    recorded = HTTP.get(consumer.url + "/payments?limit=500").json()["requests"]
    assert [r["paymentIdOrAddress"] for r in recorded] == [
        r.payment_id_or_address for r in requests[: len(recorded)]
    ]
    # Nothing paid twice: one transfer per paid request, each to its own fresh address.
    paid_addresses = [
        r["paymentIdOrAddress"] for r in recorded if r["state"] in ("sent", "confirmed")
    ]
    assert len(paid_addresses) == len(set(paid_addresses))

    # -- a consumer killed (SIGKILL) and restarted goes on, paying nothing twice --------------
    consumer.kill()
    consumer.start(timeout=600)
    seen = len(recorded)
    wait_for(
        "a payment after the restart",
        lambda: any(
            r["state"] in ("sent", "confirmed")
            for r in HTTP.get(consumer.url + "/payments?limit=500").json()["requests"][seen:]
        ),
        timeout=600,
    )
    recorded = HTTP.get(consumer.url + "/payments?limit=500").json()["requests"]
    with NodeApi(devnet.api_url) as node:
        for row in recorded:
            transfers = value_transfers_to(node, row["paymentIdOrAddress"])
            if row["state"] in ("sent", "confirmed"):
                assert len(transfers) == 1, (row, transfers)
            elif row["state"] in ("superseded", "nothing", "unpayable"):
                assert not transfers, (row, transfers)
            else:  # new or sending: may be on its way right now, never twice
                assert len(transfers) <= 1, (row, transfers)

    # -- the producer is paid: its confirmed balance grows ------------------------------------
    wait_for(
        "a producer payout",
        lambda: (HTTP.get(producer.url + "/").json().get("balance") or 0) > 0,
        timeout=600,
    )
    assert HTTP.get(consumer.url + "/").json()["balance"] is not None

    # -- the books balance to the token --------------------------------------------------------
    books = HTTP.get(grid.url + "/accounts").json()
    totals = books["totals"]
    assert totals["received"] > 0
    assert (
        totals["received"]
        == totals["cut"] + totals["paidOut"] + totals["waiting"] + totals["credit"]
    )
    assert all(isinstance(v, int) for v in totals.values())
    assert len(books["consumers"]) == 1 and len(books["producers"]) == 1
    # Every token accounted for: each service's books equal its wallet, the supply whole
    # (the economy keeps trading meanwhile: the audit repeats until one reading agrees).
    audit = Economy(devnet.api_url)
    audit.add(grid.url, producer.url, consumer.url, wind.url, solar.url)
    audit.check(timeout=120)

    # -- a source's goodbye stops its reading ------------------------------------------------
    headers = {"Authorization": f"Bearer {economy['token']}"}
    assert HTTP.post(wind.url + "/source/goodbye").status_code == 401
    retired = HTTP.post(wind.url + "/source/goodbye", headers=headers)
    assert retired.status_code == 200, retired.text
    view = HTTP.get(wind.url + "/source").json()
    assert view["retired"] is True
    with NodeApi(devnet.api_url) as node:
        wind_messages = [
            decode_trytes(m.message)
            for m in ChannelReader(
                node, "restricted", _side_key(economy["tmp"] / "wind")
            ).fetch_all(view["root"], limit=500)
        ]
    assert isinstance(wind_messages[0], Hello) and isinstance(wind_messages[-1], Goodbye)
    assert all(isinstance(m, Output) for m in wind_messages[1:-1])
    wait_for(
        "the producer to stop reading wind",
        lambda: all(
            s["itemType"] != "wind" for s in HTTP.get(producer.url + "/sources").json()["sources"]
        ),
    )
    # wind publishes no more; solar goes on.
    before = HTTP.get(wind.url + "/source").json()["slicesPublished"]
    solar_before = HTTP.get(solar.url + "/source").json()["slicesPublished"]
    time.sleep(2 * SLICE + 1)
    wait_for(
        "solar to go on publishing",
        lambda: HTTP.get(solar.url + "/source").json()["slicesPublished"] > solar_before,
    )
    assert HTTP.get(wind.url + "/source").json()["slicesPublished"] == before


def value_transfers_to(node: NodeApi, address: str) -> set[str]:
    """Bundles that move value to ``address`` (on the tangle, whoever recorded what)."""
    hashes = node.find_transactions([address[:81]])
    if not hashes:
        return set()
    transactions = parse_many(node.get_trytes(hashes)).transactions
    return {tx.bundle for tx in transactions if tx.address == address[:81] and tx.value > 0}


def _side_key(data_dir: Path) -> str:
    path = next(data_dir.glob("*.sqlite"))
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        row = db.execute("SELECT side_key FROM energy_owned_channels WHERE name='own'").fetchone()
    assert row is not None
    return str(row[0])
