"""Polls the economy every COLLECT_SECONDS and turns what it sees into chart series.

Sources, all read-only and over the network like any other client:
- each machine's ``GET /health`` (confirmed balance), ``GET /orders`` (finished orders:
  orders per minute, latency from order to product) and ``GET /stats`` (products made);
- the devnet's ``GET /explorer/milestones`` (milestone index, confirmed transactions per
  second, confirmation delay, tokens moved between different owners);
- the lock controller's ``GET /events`` when LOCK_URL is set (lock events, unlocks).

A source that does not answer is skipped for that round and logged once per outage;
the charts show the gap. Series names: ``balance:<machine>``, ``orders_per_minute``,
``order_latency_s``, ``milestone_index``, ``confirmed_tps``, ``confirmation_delay_s``,
``lock_events``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import Any

import httpx

from services.dashboard.series import SeriesStore
from services.dashboard.settings import DashboardSettings

__all__ = ["Collector"]

log = logging.getLogger("dashboard.collector")

# How many order ids / lock event ids to remember so nothing is counted twice.
_SEEN_LIMIT = 5_000


class _Seen:
    """A bounded set: the oldest ids are forgotten first."""

    def __init__(self, limit: int = _SEEN_LIMIT) -> None:
        self._order: deque[str] = deque()
        self._set: set[str] = set()
        self._limit = limit

    def add(self, key: str) -> bool:
        """True when ``key`` is new."""
        if key in self._set:
            return False
        self._set.add(key)
        self._order.append(key)
        if len(self._order) > self._limit:
            self._set.discard(self._order.popleft())
        return True


class Collector:
    def __init__(
        self, settings: DashboardSettings, store: SeriesStore, client: httpx.AsyncClient
    ) -> None:
        self.settings = settings
        self.store = store
        self.client = client
        self._finished_orders = _Seen()
        self._finish_times: deque[float] = deque()
        self._last_milestone = 0
        self._last_milestone_time: float | None = None
        self._lock_events = _Seen()
        self._products: dict[str, int] = {}  # machine -> products made, from its GET /stats
        self._down: set[str] = set()
        store.set_total("tokens_moved", 0)
        store.set_total("products_made", 0)
        store.set_total("unlocks", 0)

    async def run(self) -> None:
        """Collect forever (run under the app's Supervisor)."""
        while True:
            started = time.monotonic()
            await self.collect_once()
            elapsed = time.monotonic() - started
            await asyncio.sleep(max(0.05, self.settings.collect_seconds - elapsed))

    async def collect_once(self) -> None:
        now = time.time()
        jobs = [self._machine(m.name, m.api_url or m.url, now) for m in self.settings.machines]
        jobs.append(self._devnet())
        if self.settings.lock_url:
            jobs.append(self._lock(now))
        await asyncio.gather(*jobs)
        # orders per minute: finished orders in the last 60 s
        while self._finish_times and self._finish_times[0] < now - 60:
            self._finish_times.popleft()
        self.store.add("orders_per_minute", len(self._finish_times), now)
        self.store.notify()

    def _reachable(self, source: str, ok: bool, detail: str = "") -> None:
        if ok and source in self._down:
            self._down.discard(source)
            log.info("event=source_back source=%s", source)
        elif not ok and source not in self._down:
            self._down.add(source)
            log.warning("event=source_unreachable source=%s detail=%s", source, detail)

    async def _get(self, source: str, url: str, **kwargs: Any) -> Any:
        try:
            reply = await self.client.get(url, timeout=self.settings.collect_seconds * 2, **kwargs)
            reply.raise_for_status()
            body = reply.json()
        except (httpx.HTTPError, ValueError) as error:
            self._reachable(source, False, type(error).__name__)
            return None
        self._reachable(source, True)
        return body

    async def _machine(self, name: str, url: str, now: float) -> None:
        base = url.rstrip("/")
        health = await self._get(name, base + "/health")
        if isinstance(health, dict) and isinstance(health.get("balance"), int):
            self.store.add(f"balance:{name}", health["balance"], now)
        orders = await self._get(name, base + "/orders", params={"limit": 100})
        if not isinstance(orders, list):
            return
        for order in orders:
            if not isinstance(order, dict) or order.get("state") != "done":
                continue
            key = f"{name}/{order.get('order_id')}"
            finished, created = order.get("finished_at"), order.get("created_at")
            if not isinstance(finished, int | float) or not self._finished_orders.add(key):
                continue
            if finished >= now - 60:
                self._finish_times.append(float(finished))
            if isinstance(created, int | float):
                self.store.add("order_latency_s", round(finished - created, 3), finished)
        # The total is the machines' own count (their databases), not what this process
        # happened to see since it started: a restarted dashboard shows the same number.
        stats = await self._get(name, base + "/stats")
        finished = stats.get("finished") if isinstance(stats, dict) else None
        if isinstance(finished, dict) and isinstance(finished.get("products"), int):
            self._products[name] = finished["products"]
            self.store.set_total("products_made", sum(self._products.values()))

    async def _devnet(self) -> None:
        base = self.settings.node_url.rstrip("/")
        body = await self._get(
            "devnet", base + "/explorer/milestones", params={"since": self._last_milestone}
        )
        if not isinstance(body, dict):
            return
        for milestone in body.get("milestones", []):
            index, stamp = int(milestone["index"]), float(milestone["timestamp"])
            self.store.add("milestone_index", index, stamp)
            if self._last_milestone_time is not None and stamp > self._last_milestone_time:
                rate = milestone["confirmed"] / (stamp - self._last_milestone_time)
                self.store.add("confirmed_tps", round(rate, 3), stamp)
            delay = milestone.get("meanConfirmationDelayMs")
            if delay is not None:
                self.store.add("confirmation_delay_s", round(delay / 1000, 3), stamp)
            self.store.totals["tokens_moved"] += int(milestone.get("valueMoved") or 0)
            self._last_milestone = index
            self._last_milestone_time = stamp

    async def _lock(self, now: float) -> None:
        settings = self.settings
        assert settings.lock_url is not None
        auth = None
        if settings.lock_user and settings.lock_password is not None:
            auth = (settings.lock_user, settings.lock_password.get_secret_value())
        events = await self._get(
            "lock", settings.lock_url.rstrip("/") + "/events", params={"limit": 200}, auth=auth
        )
        if not isinstance(events, list):
            return
        new = 0
        for event in events:
            if isinstance(event, dict) and self._lock_events.add(str(event.get("id"))):
                new += 1
                if event.get("kind") == "checkout":
                    self.store.totals["unlocks"] += 1
        self.store.add("lock_events", new, now)
