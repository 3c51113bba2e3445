"""One ZMQ subscription for the whole fleet, fanned out to every machine's payment watcher.

A machine run alone opens its own SUB socket on the node and parses every transaction the
node publishes (shared/machine/watcher.py). A thousand machines doing so would parse every
transaction a thousand times. Here the fleet parses it once and hands the event to each
machine's :class:`PaymentWatcher`, whose ``handle`` is one dict lookup for an address it
does not wait on. Each machine's own watcher loop is still run by its app (so its
``/health`` says whether the feed is up): its "feed" is :meth:`FeedHub.connection`, which
yields no events itself and ends when the hub loses the node, as a lost socket would.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from shared.machine.watcher import FeedFactory, PaymentWatcher
from shared.retry import Backoff

__all__ = ["FeedHub", "FeedLost"]

log = logging.getLogger("fleet.feed")


class FeedLost(ConnectionError):
    """The fleet's subscription to the node ended (a machine's watcher reconnects)."""


class FeedHub:
    """Consumes one feed (``feed_factory``) and routes every event to all watchers."""

    def __init__(self, feed_factory: FeedFactory) -> None:
        self._factory = feed_factory
        self._watchers: list[PaymentWatcher] = []
        self._up = asyncio.Event()
        self._down = asyncio.Event()
        self._down.set()
        self.events = 0

    @property
    def connected(self) -> bool:
        return self._up.is_set()

    def add(self, watcher: PaymentWatcher) -> None:
        self._watchers.append(watcher)

    def connection(self) -> AbstractAsyncContextManager[AsyncIterator[Any]]:
        """A machine's feed factory: entered once the hub is connected; its iterator
        yields nothing and raises :class:`FeedLost` when the hub disconnects."""
        return self._connection()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncIterator[Any]]:
        await self._up.wait()
        yield self._until_lost()

    async def _until_lost(self) -> AsyncIterator[Any]:
        await self._down.wait()
        raise FeedLost("the fleet's node feed was lost")
        yield  # an async generator that never yields: events go to handle() directly

    async def run(self, *, retry_delay: float = 1.0, max_delay: float = 10.0) -> None:
        """Consume the feed forever, reconnecting with backoff (cancelled at shutdown)."""
        backoff = Backoff(retry_delay, max(retry_delay, max_delay))
        while True:
            try:
                async with self._factory() as feed:
                    self._down.clear()
                    self._up.set()
                    backoff.reset()
                    log.info("event=fleet_zmq_connected watchers=%d", len(self._watchers))
                    async for event in feed:
                        self.events += 1
                        for watcher in self._watchers:
                            watcher.handle(event)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the feed must never take the fleet down
                log.warning("event=fleet_zmq_error error=%s", type(error).__name__)
            finally:
                self._up.clear()
                self._down.set()
            await backoff.sleep()
