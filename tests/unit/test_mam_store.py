"""ChannelStore: a writer's position survives restarts and SIGKILL; no leaf is used twice."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from shared.mam import MamConflictError, channel_root, create_message
from shared.mam.store import ChannelStore, Position

SEED = "STORE9TEST9SEED" + "9" * 66
REPO = Path(__file__).resolve().parents[2]


def _publish(store: ChannelStore, state, text: str):
    trial = dataclasses.replace(state)
    message = create_message(trial, text)
    store.advance(Position.of(state), trial)
    return trial, message


def test_reopened_channel_continues_where_it_stopped(tmp_path: Path) -> None:
    store = ChannelStore.in_directory(tmp_path)
    state = store.open(SEED, 1, "restricted", "KEY")
    assert store.position(SEED, 1) is None
    state, first = _publish(store, state, "ONE")
    state, second = _publish(store, state, "TWO")
    store.close()

    reopened = ChannelStore.in_directory(tmp_path)
    resumed = reopened.open(SEED, 1, "restricted", "KEY")
    assert (resumed.start, resumed.index) == (2, 0)
    assert channel_root(resumed) == second.next_root
    # the same seed in another mode shares the leaves, so it resumes too
    assert reopened.open(SEED, 1, "public").start == 2
    # another security level is another key set
    assert reopened.open(SEED, 2, "public").start == 0
    assert first.root != second.root


def test_two_writers_cannot_take_the_same_leaf(tmp_path: Path) -> None:
    store = ChannelStore.in_directory(tmp_path)
    one = store.open(SEED, 1)
    two = store.open(SEED, 1)
    one, _ = _publish(store, one, "FIRST")
    with pytest.raises(MamConflictError):
        _publish(store, two, "SECOND")
    assert store.position(SEED, 1) == Position(1, 1, 1, 0)


def test_position_survives_sigkill(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import dataclasses, sys, time
        from shared.mam import create_message
        from shared.mam.store import ChannelStore, Position
        store = ChannelStore.in_directory({str(tmp_path)!r})
        state = store.open({SEED!r}, 1)
        trial = dataclasses.replace(state)
        message = create_message(trial, "CRASH")
        store.advance(Position.of(state), trial)
        print(message.root, message.next_root, flush=True)
        time.sleep(60)
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().split()
        assert len(line) == 2, "the writer died before publishing"
        used_root, next_root = line
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert process.returncode == -signal.SIGKILL
    store = ChannelStore.in_directory(tmp_path)
    state = store.open(SEED, 1)
    assert state.start == 1
    root = channel_root(state)
    assert root == next_root != used_root
