"""MAM over a real devnet: a writer attaches three messages, a fresh reader follows them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.mam import channel_root
from shared.mam.codec import json_from_trytes
from shared.mam.store import ChannelStore
from shared.mam.tangle import ChannelReader, ChannelWriter, NodeApi
from tests.support.devnet import DevnetProcess, devnet_fixture

pytestmark = pytest.mark.integration

SEED = "MAM9DEVNET9INTEGRATION9TEST9SEED" + "9" * 49
SIDE_KEY = "GRIDSECRET"


@pytest.fixture
def devnet(tmp_path: Path) -> Iterator[DevnetProcess]:
    with devnet_fixture(tmp_path / "devnet") as process:
        yield process


@pytest.mark.timeout(180)
def test_three_messages_attached_and_fetched_in_order(
    devnet: DevnetProcess, database_url: str
) -> None:
    """The writer's channel store on SQLite and on PostgreSQL."""
    store = ChannelStore.from_url(database_url)
    with NodeApi(devnet.api_url) as node:
        writer = ChannelWriter.open(
            node, store, SEED, security=2, mode="restricted", side_key=SIDE_KEY, mwm=devnet.mwm
        )
        first_root = channel_root(writer.state)
        sent = [
            {"command": "hello"},
            {"command": "output", "producerId": "wind-1", "output": 1234, "startTime": 1},
            {"command": "goodbye"},
        ]
        published = [writer.publish_json(value) for value in sent]
        assert published[0].message.root == first_root
        assert all(p.hashes for p in published)
        # the node holds what we attached, PoW included
        trytes = node.get_trytes(published[0].hashes)
        assert all(t != "9" * 2673 for t in trytes)

    # a fresh process-like reader: new client, only the first root and the side key
    with NodeApi(devnet.api_url) as node:
        messages = ChannelReader(node, "restricted", SIDE_KEY).fetch_all(first_root)
        assert [json_from_trytes(m.message) for m in messages] == sent
        assert [m.root for m in messages] == [p.message.root for p in published]
        # the wrong side key reads nothing
        assert ChannelReader(node, "restricted", "WRONG").fetch_all(first_root) == []
        # the writer restarted from its store continues the same chain
        resumed = ChannelWriter.open(
            node, store, SEED, security=2, mode="restricted", side_key=SIDE_KEY, mwm=devnet.mwm
        )
        assert channel_root(resumed.state) == messages[-1].next_root
        resumed.publish_json({"command": "hello-again"})
        again = ChannelReader(node, "restricted", SIDE_KEY).fetch_all(first_root)
        assert len(again) == 4 and json_from_trytes(again[3].message) == {"command": "hello-again"}
