"""A payout found ``sending`` after a crash: sent again only if its transfer is not on the
tangle (found by its marker message), so a producer is never paid twice."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from services.grid.app import STORE as GRID_STORE
from services.grid.bookkeeping import GridBooks
from services.grid.db import Payout, ProducerSlice
from services.grid.settings import GridSettings
from services.grid.settlement import PAYOUT_TAG, GridSettlement
from shared.db import make_engine, make_sessionmaker
from shared.energy.channels import ChannelBook
from shared.energy.follower import ChannelFollower
from shared.energy.models import STORE as ENERGY_STORE
from shared.iota.validation import with_checksum
from shared.iota.wallet import Wallet
from shared.mam.tangle import NodeApi
from shared.migrations import upgrade
from tests.integration.grid.conftest import patient_devnet
from tests.integration.grid.parties import wait_for
from tests.support.devnet import DevnetProcess, random_seed

pytestmark = pytest.mark.integration


@pytest.fixture
def devnet(tmp_path: Path) -> Iterator[DevnetProcess]:
    with patient_devnet(tmp_path / "devnet") as process:
        yield process


@pytest.mark.timeout(600)
def test_sending_payouts_are_reconciled_not_repeated(devnet: DevnetProcess, tmp_path: Path) -> None:
    settings = GridSettings.model_validate(
        {
            "seed": random_seed(),
            "data_dir": tmp_path / "grid",
            "iota_node_url": devnet.api_url,
            "iota_zmq_url": devnet.zmq_url,
            "min_weight_magnitude": devnet.mwm,
        }
    )
    engine = make_engine(settings.resolved_database_url())
    upgrade(engine, ENERGY_STORE)
    upgrade(engine, GRID_STORE)
    sessions = make_sessionmaker(engine)
    node = NodeApi(devnet.api_url)
    wallet = Wallet(settings.seed.get_secret_value(), devnet.api_url, engine)
    producer = Wallet(random_seed(), devnet.api_url, f"sqlite:///{tmp_path}/producer.db")
    books = GridBooks(
        sessions, slice_seconds=30, fee_percent=20, pricing="weighted", default_price=10
    )
    grid = GridSettlement(
        settings, books, ChannelFollower(node, sessions), ChannelBook(node, sessions), wallet, node
    )
    try:
        devnet.faucet(with_checksum(wallet.new_address("funds")), 100)
        wait_for("the grid's funds", lambda: wallet.spendable_balance() == 100, 60)
        address = producer.new_address("paid")
        with sessions.begin() as session:
            session.add(
                ProducerSlice(
                    producer_id="PRODUCER9WIND",
                    slice_start=0,
                    slice_end=30_000,
                    output=1.0,
                    price=10,
                    payment_address=address,
                )
            )
            # 1: the grid died after its transfer reached the node; 2: before it did
            session.add(
                Payout(
                    id=1, producer_id="PRODUCER9WIND", amount=30, status="sending", address=address
                )
            )
            session.add(
                Payout(
                    id=2, producer_id="PRODUCER9WIND", amount=20, status="sending", address=address
                )
            )
        sent = wallet.send(30, address, tag=PAYOUT_TAG, message=grid.marker(1))

        def settled() -> bool:
            grid.pay_once()
            return not books.open_payouts()

        wait_for("both payouts settled", settled, 120)
        with sessions() as session:
            rows = {row.id: row for row in session.scalars(select(Payout))}
        assert (
            rows[1].status == "sent" and rows[1].tail_hash == sent.tail_hash
        )  # found, not re-sent
        assert rows[2].status == "sent" and rows[2].tail_hash not in (None, sent.tail_hash)
        wait_for("the producer's balance", lambda: producer.balance() == 50, 60)
        time.sleep(2)
        assert producer.balance() == 50  # 30 + 20: nothing twice
        assert grid.pay_once() == 0
    finally:
        node.close()
        wallet.close()
        producer.close()
