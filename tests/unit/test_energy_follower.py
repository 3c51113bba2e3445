"""ChannelFollower against an in-memory node: one reader per channel. The grid's reader
loop and its settler (which reads once more before pricing) poll the same follower at
once; each message must be booked once, with no UNIQUE-constraint failure
(``channel_read_failed``) from two threads booking the same message."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.grid.bookkeeping import GridBooks
from services.grid.db import ProducerSlice
from shared.db import make_engine, make_sessionmaker, sqlite_url
from shared.energy.follower import ChannelFollower
from shared.energy.messages import EnergyMessage, Hello, ProducerOutput, encode_trytes
from shared.energy.models import EnergyBase, Registration
from shared.mam import create_channel
from shared.mam.tangle import ChannelWriter
from tests.unit.test_mam_tangle import FakeIri

SEED = "FOLLOWER9TEST9SEED" + "9" * 63
SIDE_KEY = "SIDEKEY"
SLICE_MS = 10_000


def test_concurrent_polls_book_each_message_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    node = FakeIri()
    writer = ChannelWriter(node, create_channel(SEED, 2, "restricted", SIDE_KEY), tag="FOLLOWTEST")
    root = writer.publish(encode_trytes(Hello())).message.root
    for n in range(6):
        start = n * SLICE_MS
        writer.publish(encode_trytes(ProducerOutput(start, start + SLICE_MS, 1.0, 100, "P" * 81)))

    engine = make_engine(sqlite_url(tmp_path, "grid"))
    EnergyBase.metadata.create_all(engine)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        session.add(Registration(registration_id="PRODUCER1", item_name="p", item_type="producer"))
    books = GridBooks(
        sessions,
        slice_seconds=SLICE_MS / 1000,
        fee_percent=20,
        pricing="weighted",
        default_price=10,
    )
    follower = ChannelFollower(node, sessions)
    follower.start("PRODUCER1", root, SIDE_KEY)

    def slow_handle(session: Session, registration_id: str, message: EnergyMessage) -> None:
        books.handle_message(session, registration_id, message)
        session.flush()
        time.sleep(0.05)  # the booking takes a while: the other poll reads meanwhile

    handled: list[int] = []
    barrier = threading.Barrier(2)

    def poll() -> None:
        barrier.wait()
        handled.append(follower.poll_all(slow_handle))

    with caplog.at_level(logging.WARNING, logger="shared.energy.follower"):
        threads = [threading.Thread(target=poll) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert not any("channel_read_failed" in r.getMessage() for r in caplog.records), [
        r.getMessage() for r in caplog.records
    ]
    assert sum(handled) == 6  # each message handled once, by whichever poll got it
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(ProducerSlice)) == 6
    position = follower.position("PRODUCER1")
    assert position is not None and position.messages_read == 7  # hello + 6
