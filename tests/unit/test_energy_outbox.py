"""The outbox: messages chain from the channel's root, survive a reopen, stop at goodbye."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.db import make_engine, make_sessionmaker
from shared.energy.outbox import ChannelOutbox, random_trytes
from shared.mam.channel import parse_message
from shared.mam.codec import json_from_trytes
from shared.mam.errors import MamError


def _outbox(path: Path, name: str = "source") -> ChannelOutbox:
    return ChannelOutbox(make_sessionmaker(make_engine(f"sqlite:///{path}")), name)


def test_messages_chain_from_the_root_and_resume_after_reopen(tmp_path: Path) -> None:
    db = tmp_path / "outbox.sqlite"
    outbox = _outbox(db)
    info = outbox.open()
    assert len(info.root) == 81 and len(info.side_key) == 81
    assert len(info.registration_id) >= 8
    outbox.publish({"command": "hello"})
    outbox.publish({"command": "output", "startTime": 0, "endTime": 10, "output": 1.5})

    again = _outbox(db)
    reopened = again.open()  # same channel, same id, nothing re-created
    assert (reopened.root, reopened.side_key, reopened.registration_id) == (
        info.root,
        info.side_key,
        info.registration_id,
    )
    assert reopened.messages == 2
    again.publish({"command": "output", "startTime": 10, "endTime": 20, "output": 2.0})

    rows = sorted(again.pending(), key=lambda m: m.sequence)
    assert [r.sequence for r in rows] == [0, 1, 2]
    root = info.root
    bodies = []
    for row in rows:
        assert row.root == root
        parsed = parse_message(row.payload, root, info.side_key)
        bodies.append(json_from_trytes(parsed.message))
        root = parsed.next_root
    assert bodies[0] == {"command": "hello"}
    assert bodies[2]["output"] == 2.0
    with pytest.raises(MamError):
        parse_message(rows[0].payload, info.root, random_trytes())


def test_goodbye_closes_the_channel(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path / "o.sqlite")
    outbox.open()
    outbox.publish({"command": "hello"})
    outbox.publish({"command": "goodbye"})
    assert outbox.info().closed
    with pytest.raises(MamError, match="goodbye"):
        outbox.publish({"command": "output", "startTime": 0, "endTime": 1, "output": 0})


def test_a_failed_transaction_keeps_the_leaf(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path / "o.sqlite")
    info = outbox.open()
    with pytest.raises(RuntimeError), outbox.sessions.begin() as session:
        outbox.enqueue(session, {"command": "hello"})
        raise RuntimeError("crash before commit")
    message = outbox.publish({"command": "hello"})
    assert message.sequence == 0 and message.root == info.root


def test_secrets_stay_out_of_repr(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path / "o.sqlite")
    info = outbox.open()
    assert info.side_key not in repr(info)
    with outbox.sessions() as session:
        from shared.energy.outbox import WriterChannel

        row = session.get(WriterChannel, "source")
        assert row is not None
        assert row.seed not in repr(row) and row.side_key not in repr(row)
