"""shared.energy over a real devnet: own channels survive a lost attach, followers check
``hello``, hand each message over exactly once and stop at ``goodbye``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from shared.db import make_engine, make_sessionmaker, sqlite_url
from shared.energy.channels import ChannelBook, OutboxMessage
from shared.energy.follower import ChannelFollower, HelloMissing, check_hello
from shared.energy.messages import EnergyMessage, Goodbye, Hello, Output, Usage
from shared.energy.models import STORE as ENERGY_STORE
from shared.mam.tangle import NodeApi
from shared.migrations import upgrade
from tests.support.devnet import DevnetProcess, devnet_fixture

pytestmark = pytest.mark.integration


@pytest.fixture
def devnet(tmp_path: Path) -> Iterator[DevnetProcess]:
    with devnet_fixture(tmp_path / "devnet") as process:
        yield process


def _sessions(path: Path, name: str) -> sessionmaker[Session]:
    engine = make_engine(sqlite_url(path, name))
    upgrade(engine, ENERGY_STORE)
    return make_sessionmaker(engine)


@pytest.mark.timeout(180)
def test_follow_a_channel_from_hello_to_goodbye(devnet: DevnetProcess, tmp_path: Path) -> None:
    with NodeApi(devnet.api_url) as node:
        writer = ChannelBook(node, _sessions(tmp_path, "writer"), mwm=devnet.mwm)
        channel = writer.ensure("own")
        assert writer.ensure("own").root == channel.root  # created once

        # nothing at the root yet: refused, and worth retrying
        with pytest.raises(HelloMissing) as missing:
            check_hello(node, channel.root, channel.side_key)
        assert not missing.value.visible

        writer.publish("own", Hello())
        follower = ChannelFollower(node, _sessions(tmp_path, "reader"))
        follower.start("SOURCE9ID9001", channel.root, channel.side_key)

        # a message prepared but never attached (a crash between the two steps) is
        # attached by flush(): the chain has no hole
        with writer.sessions.begin() as session:
            writer.prepare(session, "own", Output(1000, 2000, 1.5))
        assert len(writer.pending()) == 1
        seen: list[EnergyMessage] = []

        def handle(session: Session, registration_id: str, message: EnergyMessage) -> None:
            assert registration_id == "SOURCE9ID9001"
            seen.append(message)

        assert follower.poll("SOURCE9ID9001", handle).handled == 0
        assert writer.flush() == 1
        writer.publish("own", Usage(2000, 3000, 0.25))
        result = follower.poll("SOURCE9ID9001", handle)
        assert result.handled == 2 and not result.closed
        assert follower.poll("SOURCE9ID9001", handle).handled == 0  # nothing twice
        writer.publish("own", Goodbye())
        writer.publish("own", Output(3000, 4000, 9.0))  # after goodbye: never read
        result = follower.poll("SOURCE9ID9001", handle)
        assert result.closed
        assert seen == [Output(1000, 2000, 1.5), Usage(2000, 3000, 0.25), Goodbye()]
        assert follower.open_ids() == []
        with writer.sessions() as session:
            assert all(row.attached for row in session.query(OutboxMessage))

        # a channel whose first message is not hello is refused, saying so
        other = writer.ensure("other")
        writer.publish("other", Output(1000, 2000, 1.0))
        with pytest.raises(HelloMissing, match="first message is 'output'") as refused:
            follower.start("SOURCE9ID9002", other.root, other.side_key)
        assert refused.value.visible
        # with a wrong side key the hello does not authenticate: as if missing
        with pytest.raises(HelloMissing):
            check_hello(node, channel.root, "A" * 81)


@pytest.mark.timeout(300)
def test_poll_all_reads_every_channel_at_once_each_message_once(
    devnet: DevnetProcess, tmp_path: Path
) -> None:
    """poll_all: several channels per node call, several messages per channel, a goodbye
    closes only its channel, a failing handler leaves its channel for the next call."""
    with NodeApi(devnet.api_url) as node:
        writer = ChannelBook(node, _sessions(tmp_path, "writer"), mwm=devnet.mwm)
        follower = ChannelFollower(node, _sessions(tmp_path, "reader"))
        names = ["A", "B", "C"]
        for name in names:
            channel = writer.ensure(name)
            writer.publish(name, Hello())
            follower.start(f"SOURCE9{name}", channel.root, channel.side_key)
        writer.publish("A", Output(1000, 2000, 1.0))
        writer.publish("A", Output(2000, 3000, 2.0))
        writer.publish("B", Goodbye())
        writer.publish("C", Usage(1000, 2000, 0.5))
        seen: list[tuple[str, EnergyMessage]] = []
        fail = {"SOURCE9C"}

        def handle(session: Session, registration_id: str, message: EnergyMessage) -> None:
            if registration_id in fail:
                raise RuntimeError("the database is busy")
            seen.append((registration_id, message))

        assert follower.poll_all(handle) == 3  # A twice, B's goodbye; C failed
        assert sorted(follower.open_ids()) == ["SOURCE9A", "SOURCE9C"]
        fail.clear()
        assert follower.poll_all(handle) == 1  # C's usage, read again
        assert follower.poll_all(handle) == 0  # nothing twice
        assert sorted(seen, key=lambda item: item[0]) == [
            ("SOURCE9A", Output(1000, 2000, 1.0)),
            ("SOURCE9A", Output(2000, 3000, 2.0)),
            ("SOURCE9B", Goodbye()),
            ("SOURCE9C", Usage(1000, 2000, 0.5)),
        ]
