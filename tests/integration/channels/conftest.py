"""One devnet (0.5 s milestones, the agent inside) for every channel integration test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.devnet import DevnetProcess, devnet_fixture


@pytest.fixture(scope="package")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevnetProcess]:
    with devnet_fixture(tmp_path_factory.mktemp("devnet"), milestone_interval=0.5) as node:
        yield node
