"""Fixtures for the wallet integration tests: one real devnet per module, on free ports.

The module runs once on SQLite and once on PostgreSQL (``databases``): the devnet and the
wallets both store on that backend.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.devnet import DevnetProcess, devnet_fixture
from tests.support.postgres import Databases


@pytest.fixture(scope="module")
def devnet(
    tmp_path_factory: pytest.TempPathFactory, databases: Databases
) -> Iterator[DevnetProcess]:
    extra_env = {"DEVNET_DATABASE_URL": databases.url("devnet")}
    with devnet_fixture(
        tmp_path_factory.mktemp("devnet"), milestone_interval=0.5, extra_env=extra_env
    ) as node:
        yield node


@pytest.fixture(scope="module")
def wallet_db(databases: Databases) -> str:
    return databases.url("wallets")
