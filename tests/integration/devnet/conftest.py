"""Fixtures for the devnet acceptance tests: one real devnet process per module, a ZMQ tap."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import zmq

from tests.support.devnet import DevnetProcess, devnet_fixture


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevnetProcess]:
    data_dir: Path = tmp_path_factory.mktemp("devnet")
    with devnet_fixture(data_dir, milestone_interval=0.5) as node:
        yield node


class ZmqTap:
    """Collects every line the devnet publishes, in a background thread."""

    def __init__(self, url: str) -> None:
        self._context = zmq.Context()
        self._socket = self._context.socket(zmq.SUB)
        self._socket.setsockopt(zmq.SUBSCRIBE, b"")
        self._socket.setsockopt(zmq.RCVTIMEO, 100)
        self._socket.connect(url)
        self.lines: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.lines.append(self._socket.recv().decode("ascii"))
            except zmq.Again:
                continue

    def wait_for(self, predicate: object, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            snapshot = list(self.lines)
            for line in snapshot[seen:]:
                if predicate(line):  # type: ignore[operator]
                    return line
            seen = len(snapshot)
            time.sleep(0.05)
        raise TimeoutError("no matching ZMQ line")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._socket.close(0)
        self._context.term()


@pytest.fixture
def zmq_tap(devnet: DevnetProcess) -> Iterator[ZmqTap]:
    tap = ZmqTap(devnet.zmq_url)
    # PUB/SUB drops messages sent before the subscription is in place ("slow joiner").
    tap.wait_for(lambda line: line.startswith("lmi "), timeout=10)
    yield tap
    tap.close()
