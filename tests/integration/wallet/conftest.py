"""Fixtures for the wallet integration tests: one real devnet per module, on free ports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.devnet import DevnetProcess, devnet_fixture


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevnetProcess]:
    with devnet_fixture(tmp_path_factory.mktemp("devnet"), milestone_interval=0.5) as node:
        yield node


@pytest.fixture(scope="module")
def wallet_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("wallet") / "wallets.db"
    return f"sqlite:///{path}"
