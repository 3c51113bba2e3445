"""Test-side producers and consumers of the grid: real MAM channels (shared.energy /
shared.mam) and real wallets on the devnet, written by the test itself."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

from shared.db import make_engine, make_sessionmaker, sqlite_url
from shared.energy.channels import ChannelBook
from shared.energy.messages import EnergyMessage, Hello, PaymentRequest, decode_trytes
from shared.energy.models import STORE as ENERGY_STORE
from shared.iota.wallet import Wallet
from shared.mam.tangle import ChannelReader, NodeApi
from shared.migrations import upgrade
from tests.support.devnet import DevnetProcess, random_seed

__all__ = ["Party", "wait_for"]

T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 60.0) -> T:
    """Poll ``probe`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


class Party:
    """A producer or consumer: its own restricted channel and its own wallet."""

    def __init__(self, devnet: DevnetProcess, data_dir: Path, registration_id: str) -> None:
        self.registration_id = registration_id
        engine = make_engine(sqlite_url(data_dir, registration_id))
        upgrade(engine, ENERGY_STORE)
        self.node = NodeApi(devnet.api_url)
        self.book = ChannelBook(self.node, make_sessionmaker(engine), mwm=devnet.mwm)
        self.channel = self.book.ensure("own")
        self.wallet = Wallet(random_seed(), devnet.api_url, engine, min_weight_magnitude=devnet.mwm)
        self.return_root: str | None = None
        self.return_key: str | None = None

    def publish(self, message: EnergyMessage) -> None:
        self.book.publish("own", message)

    def register(self, grid_url: str, item_type: str, *, hello: bool = True) -> httpx.Response:
        if hello:
            self.publish(Hello())
        answer = httpx.put(
            f"{grid_url}/registration/{self.registration_id}",
            json={
                "itemName": f"test {item_type}",
                "itemType": item_type,
                "root": self.channel.root,
                "sideKey": self.channel.side_key,
            },
            timeout=60,
        )
        if answer.status_code == 200 and "root" in answer.json():
            self.return_root = answer.json()["root"]
            self.return_key = answer.json()["sideKey"]
        return answer

    def return_messages(self) -> list[EnergyMessage]:
        """Everything the grid published on our return channel, read with shared.mam."""
        assert self.return_root and self.return_key
        reader = ChannelReader(self.node, "restricted", self.return_key)
        return [decode_trytes(m.message) for m in reader.fetch_all(self.return_root)]

    def payment_requests(self) -> list[PaymentRequest]:
        return [m for m in self.return_messages() if isinstance(m, PaymentRequest)]

    def close(self) -> None:
        self.wallet.close()
        self.node.close()
