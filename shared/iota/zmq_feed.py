"""An asyncio subscriber to a node's ZMQ feed that yields parsed IRI events.

``async with ZmqFeed(url) as feed: async for event in feed: ...`` gives
:mod:`shared.iota.zmq_lines` events. ZMQ reconnects a SUB socket by itself
when the publisher goes away; the options below make that quick (100 ms
retries, capped at 1 s) and let heartbeats notice a silently dead peer, so
a restarted devnet is picked up within about a second.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

import zmq
import zmq.asyncio

from shared.iota.trinary import is_trytes
from shared.iota.zmq_lines import ZmqEvent, ZmqLineError, parse_line

__all__ = ["ZmqFeed", "ZmqFeedClosed"]

log = logging.getLogger("shared.iota.zmq_feed")


class ZmqFeedClosed(RuntimeError):
    """The feed was closed (before or while waiting for a line)."""


def _prefix(topic: str) -> bytes:
    # ZMQ filters by byte prefix: "tx" alone would also match "tx_trytes ...".
    # Every IRI line has a space after its topic, so "tx " matches exactly "tx".
    return topic.encode("ascii") + b" "


class ZmqFeed:
    """A SUB socket on ``zmq_url`` subscribed to ``topics`` (exact IRI topic names)."""

    def __init__(
        self,
        zmq_url: str,
        topics: Iterable[str] = ("tx", "sn"),
        *,
        reconnect_interval: float = 0.5,
        reconnect_interval_max: float = 1.0,
        heartbeat_interval: float = 1.0,
        context: zmq.asyncio.Context | None = None,
    ) -> None:
        if not zmq_url.startswith(("tcp://", "ipc://", "inproc://")):
            raise ValueError(f"zmq_url must be tcp://, ipc:// or inproc://, got {zmq_url[:60]!r}")
        if reconnect_interval <= 0:
            raise ValueError("reconnect_interval must be positive")
        self.zmq_url = zmq_url
        self.reconnect_interval = reconnect_interval
        self.reconnect_interval_max = max(reconnect_interval, reconnect_interval_max)
        self.heartbeat_interval = heartbeat_interval
        self._context = context or zmq.asyncio.Context.instance()
        self._socket: zmq.asyncio.Socket | None = None
        self._topics: set[str] = set()
        self.skipped = 0  # malformed lines seen (for tests and health output)
        for topic in topics:
            self._topics.add(self._check_topic(topic))

    @property
    def topics(self) -> frozenset[str]:
        return frozenset(self._topics)

    @staticmethod
    def _check_topic(topic: str) -> str:
        if not isinstance(topic, str) or not topic or " " in topic or not topic.isascii():
            raise ValueError(f"a ZMQ topic is a non-empty ASCII word, got {topic!r}")
        # IRI publishes address topics without the checksum.
        if len(topic) == 90 and is_trytes(topic):
            return topic[:81]
        return topic

    # -- lifecycle -----------------------------------------------------------

    def open(self) -> None:
        """Create and connect the socket (done by ``async with``)."""
        if self._socket is not None:
            return
        sock = self._context.socket(zmq.SUB)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.RECONNECT_IVL, int(self.reconnect_interval * 1000))
        sock.setsockopt(zmq.RECONNECT_IVL_MAX, int(self.reconnect_interval_max * 1000))
        if self.heartbeat_interval > 0:
            interval = int(self.heartbeat_interval * 1000)
            sock.setsockopt(zmq.HEARTBEAT_IVL, interval)
            sock.setsockopt(zmq.HEARTBEAT_TIMEOUT, 3 * interval)
            sock.setsockopt(zmq.HEARTBEAT_TTL, 3 * interval)
        # A TCP connect to a node that is down should fail fast and be retried.
        sock.setsockopt(zmq.CONNECT_TIMEOUT, 2000)
        for topic in self._topics:
            sock.setsockopt(zmq.SUBSCRIBE, _prefix(topic))
        sock.connect(self.zmq_url)
        self._socket = sock
        log.info(
            "event=zmq_feed_open url=%s topics=%s", self.zmq_url, ",".join(sorted(self._topics))
        )

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close(linger=0)
            self._socket = None
            log.info("event=zmq_feed_closed url=%s", self.zmq_url)

    async def __aenter__(self) -> ZmqFeed:
        self.open()
        return self

    async def __aexit__(self, *_exc_info: object) -> None:
        self.close()

    # -- subscriptions -------------------------------------------------------

    def subscribe(self, topic: str) -> None:
        """Also receive ``topic`` (e.g. an 81-tryte address for its confirmations)."""
        topic = self._check_topic(topic)
        if topic in self._topics:
            return
        self._topics.add(topic)
        if self._socket is not None:
            self._socket.setsockopt(zmq.SUBSCRIBE, _prefix(topic))

    def unsubscribe(self, topic: str) -> None:
        """Stop receiving ``topic``; unknown topics are ignored."""
        topic = self._check_topic(topic)
        if topic not in self._topics:
            return
        self._topics.discard(topic)
        if self._socket is not None:
            self._socket.setsockopt(zmq.UNSUBSCRIBE, _prefix(topic))

    # -- receiving -----------------------------------------------------------

    async def receive(self) -> ZmqEvent:
        """The next well-formed event; malformed lines are logged and skipped.

        Raises ZmqFeedClosed if the feed is (or gets) closed.
        """
        while True:
            sock = self._socket
            if sock is None:
                raise ZmqFeedClosed("ZmqFeed is not open; use 'async with ZmqFeed(...)'")
            try:
                frames = await sock.recv_multipart()
            except asyncio.CancelledError:
                # close() cancels a pending receive; only a cancel of our own task propagates.
                task = asyncio.current_task()
                if self._socket is None and task is not None and not task.cancelling():
                    raise ZmqFeedClosed("ZmqFeed was closed") from None
                raise
            except zmq.ZMQError:
                if self._socket is None or sock.closed:
                    raise ZmqFeedClosed("ZmqFeed was closed") from None
                raise
            # IRI sends one frame; joining tolerates publishers that split topic and body.
            raw = b" ".join(frames)
            try:
                event = parse_line(raw)
            except ZmqLineError as error:
                self.skipped += 1
                log.warning("event=zmq_line_skipped url=%s reason=%r", self.zmq_url, str(error))
                continue
            # An unsubscribe may race with lines already queued; drop those.
            if event.topic in self._topics:
                return event

    def __aiter__(self) -> ZmqFeed:
        return self

    async def __anext__(self) -> ZmqEvent:
        try:
            return await self.receive()
        except ZmqFeedClosed:
            raise StopAsyncIteration from None
