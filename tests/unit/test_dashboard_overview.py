"""The overview's series store and collector, with machines and devnet answered by a fake
transport that replies like the real services (their documented JSON)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest

from services.dashboard.collector import Collector
from services.dashboard.series import SeriesStore
from services.dashboard.settings import DashboardSettings


def test_series_are_bounded_by_count_and_age() -> None:
    store = SeriesStore(history_seconds=100, max_points=5)
    for i in range(10):
        store.add("a", i, at=1000 + i)
    assert [v for _, v in store.snapshot()["a"]] == [5, 6, 7, 8, 9]
    store.add("a", 99, at=1200)  # everything older than 100 s goes
    assert store.snapshot()["a"] == [(1200, 99)]


def test_snapshot_after_a_sequence_number_returns_only_newer_points() -> None:
    store = SeriesStore()
    store.add("a", 1, at=1)
    store.add("b", 2, at=1)
    seq = store.seq
    store.add("a", 3, at=2)
    assert store.snapshot(seq) == {"a": [(2, 3)]}
    assert store.snapshot(store.seq) == {}


async def test_wait_wakes_on_notify() -> None:
    store = SeriesStore()
    waiter = asyncio.create_task(store.wait(5))
    await asyncio.sleep(0)
    store.notify()
    await asyncio.wait_for(waiter, 1)


class FakeEconomy:
    """Answers /health, /orders, /explorer/milestones and /events like the services do."""

    def __init__(self) -> None:
        self.balance = 0
        self.orders: list[dict[str, Any]] = []
        self.milestones: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.down: set[str] = set()
        self.auth: list[str | None] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        host, path = request.url.host, request.url.path
        if host in self.down:
            raise httpx.ConnectError("refused", request=request)
        if path == "/health":
            return httpx.Response(200, json={"status": "ok", "balance": self.balance})
        if path == "/orders":
            return httpx.Response(200, json=self.orders)
        if path == "/stats":  # like shared/machine/app.py: done orders counted by kind
            done = [o for o in self.orders if o["state"] == "done"]
            finished = {
                "products": sum(o["kind"] == "product" for o in done),
                "energy": sum(o["kind"] == "energy" for o in done),
            }
            return httpx.Response(200, json={"name": "robot 1", "finished": finished})
        if path == "/explorer/milestones":
            since = int(request.url.params.get("since", "0"))
            found = [m for m in self.milestones if m["index"] > since]
            return httpx.Response(200, json={"milestones": found})
        if path == "/events":
            self.auth.append(request.headers.get("authorization"))
            return httpx.Response(200, json=self.events)
        return httpx.Response(404, json={"detail": "not found"})


def _settings(**extra: Any) -> DashboardSettings:
    machines = [{"name": "robot 1", "url": "http://public:3000", "api_url": "http://robot:3000"}]
    return DashboardSettings(
        machines=json.dumps(machines),  # parsed like the env var
        faucet_url="http://devnet:14265",
        collect_seconds=0.2,
        **extra,
    )


async def test_collector_turns_the_economy_into_series_and_totals() -> None:
    fake = FakeEconomy()
    store = SeriesStore()
    settings = _settings(lock_url="http://lock:8080", lock_user="admin", lock_password="pw")
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handler)) as client:
        collector = Collector(settings, store, client)
        now = time.time()
        fake.balance = 90
        fake.orders = [
            {
                "order_id": "o1",
                "kind": "product",
                "state": "done",
                "created_at": now - 5,
                "finished_at": now - 1,
            },
            {
                "order_id": "o2",
                "kind": "product",
                "state": "waiting_for_tx",
                "created_at": now - 1,
                "finished_at": None,
            },
        ]
        fake.milestones = [
            {
                "index": 1,
                "timestamp": int(now) - 2,
                "confirmed": 1,
                "valueMoved": 100,
                "meanConfirmationDelayMs": 800.0,
            },
            {
                "index": 2,
                "timestamp": int(now) - 1,
                "confirmed": 4,
                "valueMoved": 10,
                "meanConfirmationDelayMs": 500.0,
            },
        ]
        fake.events = [{"id": 1, "kind": "checkout"}, {"id": 2, "kind": "checkin"}]
        await collector.collect_once()
        # the same answers again count nothing twice
        await collector.collect_once()

    series = store.snapshot()
    assert [v for _, v in series["balance:robot 1"]] == [90, 90]
    assert [v for _, v in series["order_latency_s"]] == [pytest.approx(4, abs=0.01)]
    assert [v for _, v in series["orders_per_minute"]] == [1, 1]
    assert [v for _, v in series["milestone_index"]] == [1, 2]
    assert [v for _, v in series["confirmed_tps"]] == [4.0]  # 4 confirmed in 1 s
    assert [v for _, v in series["confirmation_delay_s"]] == [0.8, 0.5]
    assert [v for _, v in series["lock_events"]] == [2, 0]
    assert store.totals == {"tokens_moved": 110, "products_made": 1, "unlocks": 1}
    assert fake.auth[0] is not None and fake.auth[0].startswith("Basic ")


async def test_an_unreachable_source_is_skipped_and_the_rest_still_collected() -> None:
    fake = FakeEconomy()
    fake.down.add("robot")
    fake.milestones = [
        {
            "index": 7,
            "timestamp": 1,
            "confirmed": 0,
            "valueMoved": 0,
            "meanConfirmationDelayMs": None,
        }
    ]
    store = SeriesStore()
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handler)) as client:
        await Collector(_settings(), store, client).collect_once()
    series = store.snapshot()
    assert "balance:robot 1" not in series
    assert [v for _, v in series["milestone_index"]] == [7]
    assert "confirmation_delay_s" not in series  # nothing confirmed, no delay to show
