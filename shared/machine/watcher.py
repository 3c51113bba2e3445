"""Watches the node's ZMQ feed for payments to the addresses of open orders.

One feed per machine, one watch per address for as long as an order waits on it; the watch is
removed when the order moves on, so nothing accumulates per order (the original leaked one
ZMQ handler per order).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from shared.iota.zmq_lines import AddressConfirmation, TransactionConfirmed, TransactionSeen
from shared.retry import Backoff

__all__ = ["AddressWatch", "FeedFactory", "PaymentWatcher"]

log = logging.getLogger("machine.watcher")

FeedFactory = Callable[[], AbstractAsyncContextManager[AsyncIterator[Any]]]


@dataclass
class AddressWatch:
    """What the feed told us about one address: value seen arriving, confirmations."""

    address: str
    seen_value: int = 0
    seen_hashes: set[str] = field(default_factory=set)
    confirmations: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait_changed(self, timeout: float) -> bool:
        """Wait until the feed reports something for this address, at most ``timeout`` s."""
        try:
            await asyncio.wait_for(self.changed.wait(), max(timeout, 0.0))
            return True
        except TimeoutError:
            return False
        finally:
            self.changed.clear()


class PaymentWatcher:
    """Routes parsed ZMQ events to the watches of the addresses that are waited on."""

    def __init__(self) -> None:
        self._watches: dict[str, AddressWatch] = {}
        self.connected = False

    @property
    def watched(self) -> frozenset[str]:
        return frozenset(self._watches)

    @contextmanager
    def watch(self, address: str) -> Iterator[AddressWatch]:
        watch = self._watches.setdefault(address, AddressWatch(address))
        try:
            yield watch
        finally:
            self._watches.pop(address, None)

    def handle(self, event: object) -> None:
        """Feed one parsed ZMQ event in."""
        if isinstance(event, TransactionSeen):
            watch = self._watches.get(event.address)
            # only value transfers count; a zero-value message to the address pays nothing
            if watch is not None and event.value > 0 and event.hash not in watch.seen_hashes:
                watch.seen_hashes.add(event.hash)
                watch.seen_value += event.value
                watch.changed.set()
        elif isinstance(event, TransactionConfirmed | AddressConfirmation):
            watch = self._watches.get(event.address)
            if watch is not None:
                watch.confirmations += 1
                watch.changed.set()

    async def run(
        self, feed_factory: FeedFactory, *, retry_delay: float = 1.0, max_delay: float = 10.0
    ) -> None:
        """Consume the feed forever, reconnecting after errors (the orders poll meanwhile).

        Reconnects back off from ``retry_delay`` to ``max_delay`` with jitter, so machines
        that lost the same node do not all knock on it at the same moment."""
        backoff = Backoff(retry_delay, max(retry_delay, max_delay))
        while True:
            try:
                async with feed_factory() as feed:
                    self.connected = True
                    backoff.reset()
                    log.info("event=zmq_connected")
                    async for event in feed:
                        self.handle(event)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the feed must never take the machine down
                log.warning("event=zmq_error error=%s", type(error).__name__)
            finally:
                self.connected = False
            await backoff.sleep()
