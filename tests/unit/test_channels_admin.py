"""The channel node's admin API, served by module-level routers (services/channels/admin.py)
that take the node and the admin token through services/channels/deps.py: a front node
in process (no wallet, so no devnet)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.channels.app import create_app
from services.channels.settings import ChannelSettings

TOKEN = "admin-token-of-20-chars"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _front(tmp_path: Path, token: str | None) -> TestClient:
    settings = ChannelSettings(
        role="front",
        key="11" * 32,
        public_url="http://127.0.0.1:1",
        data_dir=tmp_path,
        admin_token=token,
    )
    return TestClient(create_app(settings))


@pytest.fixture
def front(tmp_path: Path) -> Iterator[TestClient]:
    with _front(tmp_path, TOKEN) as client:
        yield client


def test_admin_routes_reach_the_node(front: TestClient) -> None:
    assert front.get("/channels", headers=AUTH).json() == {"channels": []}
    assert front.get("/channels/nope", headers=AUTH).status_code == 404
    assert front.post("/channels/nope/close", headers=AUTH).status_code == 404
    wallet = front.get("/wallet", headers=AUTH)
    assert wallet.status_code == 409 and wallet.json() == {"error": "a front has no wallet"}
    # the peer routes and the shared / router get the same node
    assert front.post("/channels/peer/is_ready", json={"channel_id": "nope"}).json() == {
        "response": False
    }
    assert front.get("/").json()["role"] == "front"


def test_admin_routes_need_the_token(front: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong-token-of-20-chars"}):
        response = front.get("/channels", headers=headers)
        assert response.status_code == 401
        assert response.json() == {
            "error": "a valid 'Authorization: Bearer <CHANNELS_ADMIN_TOKEN>' needed"
        }


def test_without_a_token_the_admin_api_is_off(tmp_path: Path) -> None:
    with _front(tmp_path, None) as client:
        response = client.get("/channels", headers=AUTH)
        assert response.status_code == 401
        assert response.json() == {"error": "CHANNELS_ADMIN_TOKEN is not set, so this route is off"}
