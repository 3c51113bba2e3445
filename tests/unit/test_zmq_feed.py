"""ZmqFeed against a real in-process pyzmq PUB socket: parsing, filtering, skipping, reconnect."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
import zmq
import zmq.asyncio

from shared.iota.zmq_feed import ZmqFeed, ZmqFeedClosed
from shared.iota.zmq_lines import (
    AddressConfirmation,
    TransactionConfirmed,
    TransactionSeen,
    ZmqEvent,
    format_event,
)
from tests.support.process import free_port

pytestmark = pytest.mark.timeout(30)

ADDRESS = "A" * 81
HASH = "B" * 81

TX = TransactionSeen(
    hash=HASH,
    address=ADDRESS,
    value=42,
    obsolete_tag="C" * 27,
    timestamp=1_700_000_000,
    current_index=0,
    last_index=3,
    bundle="D" * 81,
    trunk="E" * 81,
    branch="F" * 81,
    arrival_time=1_700_000_001,
    tag="G" * 27,
)
SN = TransactionConfirmed(
    milestone_index=7,
    hash=HASH,
    address=ADDRESS,
    trunk="E" * 81,
    branch="F" * 81,
    bundle="D" * 81,
)


class Publisher:
    """A PUB socket standing in for the devnet's feed."""

    def __init__(self, context: zmq.asyncio.Context, port: int) -> None:
        self.socket = context.socket(zmq.PUB)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.bind(f"tcp://127.0.0.1:{port}")

    async def send(self, line: str | bytes) -> None:
        await self.socket.send(line.encode() if isinstance(line, str) else line)

    def close(self) -> None:
        self.socket.close(linger=0)


@pytest.fixture
async def context() -> AsyncIterator[zmq.asyncio.Context]:
    ctx = zmq.asyncio.Context()
    yield ctx
    ctx.destroy(linger=0)


async def receive_while_sending(
    feed: ZmqFeed, publisher: Publisher, lines: list[str | bytes], timeout: float = 10.0
) -> ZmqEvent:
    """Re-send ``lines`` until the feed yields something (PUB drops lines until SUB joins)."""

    async def pump() -> None:
        while True:
            for line in lines:
                await publisher.send(line)
            await asyncio.sleep(0.05)

    task = asyncio.create_task(pump())
    try:
        return await asyncio.wait_for(feed.receive(), timeout)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_parses_tx_and_sn_and_ignores_other_topics(context: zmq.asyncio.Context) -> None:
    port = free_port()
    publisher = Publisher(context, port)
    try:
        async with ZmqFeed(f"tcp://127.0.0.1:{port}", context=context) as feed:
            # Prefix trap: "tx_trytes" starts with "tx" but must not come through.
            first = await receive_while_sending(
                feed, publisher, ["tx_trytes " + "9" * 2673 + " " + HASH, format_event(TX)]
            )
            assert first == TX
            await publisher.send("lmi 6 7")
            await publisher.send(format_event(SN))
            second = await asyncio.wait_for(feed.receive(), 5)
            while second == TX:  # leftovers of the pump
                second = await asyncio.wait_for(feed.receive(), 5)
            assert second == SN
            assert isinstance(second, TransactionConfirmed)
            assert second.milestone_index == 7
    finally:
        publisher.close()


async def test_malformed_lines_are_skipped_and_counted(context: zmq.asyncio.Context) -> None:
    port = free_port()
    publisher = Publisher(context, port)
    try:
        async with ZmqFeed(f"tcp://127.0.0.1:{port}", ("sn",), context=context) as feed:
            await receive_while_sending(feed, publisher, [format_event(SN)])
            for bad in ["sn 1 2 3", "sn notanumber a b c d e", b"sn \xff\xfe"]:
                await publisher.send(bad)  # type: ignore[arg-type]  # str and bytes mixed
            changed = TransactionConfirmed(
                milestone_index=8,
                hash=HASH,
                address=ADDRESS,
                trunk="E" * 81,
                branch="F" * 81,
                bundle="D" * 81,
            )
            await publisher.send(format_event(changed))
            event = await asyncio.wait_for(feed.receive(), 5)
            while event == SN:
                event = await asyncio.wait_for(feed.receive(), 5)
            assert event == changed
            assert feed.skipped == 3
    finally:
        publisher.close()


async def test_subscribe_address_topic_and_unsubscribe(context: zmq.asyncio.Context) -> None:
    port = free_port()
    publisher = Publisher(context, port)
    confirmation = AddressConfirmation(address=ADDRESS, hash=HASH, milestone_index=9)
    try:
        async with ZmqFeed(f"tcp://127.0.0.1:{port}", ("sn",), context=context) as feed:
            await receive_while_sending(feed, publisher, [format_event(SN)])
            # A 90-tryte (checksummed) topic is reduced to the 81 trytes IRI publishes.
            feed.subscribe(ADDRESS + "9" * 9)
            assert ADDRESS in feed.topics
            event = await receive_while_sending(feed, publisher, [format_event(confirmation)])
            while event == SN:
                event = await receive_while_sending(feed, publisher, [format_event(confirmation)])
            assert event == confirmation
            feed.unsubscribe(ADDRESS)
            feed.unsubscribe("never-subscribed")
            # After unsubscribing only sn lines arrive.
            await asyncio.sleep(0.2)
            await publisher.send(format_event(confirmation))
            await publisher.send(format_event(SN))
            event = await asyncio.wait_for(feed.receive(), 5)
            while event != SN:
                assert event == confirmation  # only lines queued before the unsubscribe
                event = await asyncio.wait_for(feed.receive(), 5)
    finally:
        publisher.close()


async def test_reconnects_after_publisher_restart(context: zmq.asyncio.Context) -> None:
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    publisher = Publisher(context, port)
    try:
        async with ZmqFeed(url, ("tx", "sn"), reconnect_interval=0.1, context=context) as feed:
            assert await receive_while_sending(feed, publisher, [format_event(TX)]) == TX
            publisher.close()  # the node goes away ...
            await asyncio.sleep(0.3)
            publisher = Publisher(context, port)  # ... and a new one binds the same port
            loop = asyncio.get_running_loop()
            started = loop.time()
            event = await receive_while_sending(feed, publisher, [format_event(SN)])
            while event == TX:
                event = await receive_while_sending(feed, publisher, [format_event(SN)])
            assert event == SN
            # Picked up quickly, not after ZMQ's default back-off.
            assert loop.time() - started < 5
    finally:
        publisher.close()


async def test_iteration_and_close(context: zmq.asyncio.Context) -> None:
    port = free_port()
    publisher = Publisher(context, port)
    try:
        feed = ZmqFeed(f"tcp://127.0.0.1:{port}", context=context)
        with pytest.raises(ZmqFeedClosed, match="not open"):
            await feed.receive()
        async with feed:
            await receive_while_sending(feed, publisher, [format_event(TX)])
            seen = []
            await publisher.send(format_event(SN))
            async for event in feed:
                seen.append(event)
                if event == SN:
                    break
            assert seen[-1] == SN
        # Closed: iteration ends instead of hanging.
        with pytest.raises(StopAsyncIteration):
            await feed.__anext__()
    finally:
        publisher.close()


async def test_closing_ends_a_waiting_iteration(context: zmq.asyncio.Context) -> None:
    feed = ZmqFeed(f"tcp://127.0.0.1:{free_port()}", context=context)
    feed.open()

    async def consume() -> list[ZmqEvent]:
        return [event async for event in feed]

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.1)
    feed.close()
    assert await asyncio.wait_for(task, 5) == []


async def test_cancelling_the_consumer_still_cancels(context: zmq.asyncio.Context) -> None:
    async with ZmqFeed(f"tcp://127.0.0.1:{free_port()}", context=context) as feed:
        task = asyncio.create_task(feed.receive())
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="zmq_url"):
        ZmqFeed("http://127.0.0.1:5556")
    with pytest.raises(ValueError, match="topic"):
        ZmqFeed("tcp://127.0.0.1:5556", ("tx sn",))
    with pytest.raises(ValueError, match="topic"):
        ZmqFeed("tcp://127.0.0.1:5556", ("",))
