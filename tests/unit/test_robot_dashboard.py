"""The dashboard: page and config routes, faucet proxy validation, settings checks."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.dashboard.app import STATIC, create_app
from services.dashboard.settings import DashboardSettings
from shared.settings import SettingsError, load_settings
from tests.support.devnet import free_port


@pytest.fixture
def client() -> Iterator[TestClient]:
    settings = DashboardSettings(faucet_url=f"http://127.0.0.1:{free_port()}", pay_limit=500)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_index_health_and_page(client: TestClient) -> None:
    assert client.get("/").json() == {"name": "dashboard", "status": "running"}
    assert client.get("/health").json()["status"] == "ok"
    browser = client.get("/", headers={"accept": "text/html"}, follow_redirects=False)
    assert browser.status_code == 307 and browser.headers["location"] == "/ui/"
    page = client.get("/ui/")
    assert page.status_code == 200 and "tiny-socketio.js" in page.text
    assert client.get("/ui/app.js").status_code == 200
    assert client.get("/docs").status_code == 200


def test_machines_default_to_two_robot_provider_pairs(client: TestClient) -> None:
    body = client.get("/api/machines").json()
    pairs = {m["name"]: m["provider"] for m in body["machines"]}
    assert pairs == {"robot 1": "wind", "wind": None, "robot 2": "solar", "solar": None}
    assert body["pay_limit"] == 500


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"address": "A" * 80, "value": 10}, 422),
        ({"address": "a" * 81, "value": 10}, 422),
        ({"address": "A" * 81, "value": 0}, 422),
        ({"address": "A" * 81, "value": 501}, 422),
        ({"address": "A" * 81}, 422),
        ({"address": "A" * 81, "value": 10}, 502),  # nothing listens at the faucet URL
    ],
)
def test_pay_validates_before_calling_the_faucet(
    client: TestClient, body: dict[str, object], status: int
) -> None:
    reply = client.post("/api/pay", json=body)
    assert reply.status_code == status, reply.text
    if status == 502:
        assert "faucet unreachable" in reply.json()["detail"]


def test_page_fetches_nothing_from_the_internet() -> None:
    for path in Path(STATIC).iterdir():
        text = path.read_text()
        assert not re.search(r"(src|href)=\"(https?:)?//", text), path.name
        assert "cdn" not in text.lower(), path.name


@pytest.mark.parametrize(
    "machines",
    [
        "not json",
        json.dumps([{"name": "robot 1", "url": "http://x", "provider": "wind"}]),
        json.dumps([{"name": "a", "url": "ftp://x"}]),
        json.dumps([{"name": "a", "url": "http://x"}, {"name": "a", "url": "http://y"}]),
    ],
)
def test_bad_machine_lists_are_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, machines: str
) -> None:
    monkeypatch.setenv("MACHINES", machines)
    with pytest.raises(SettingsError) as info:
        load_settings(DashboardSettings)
    assert "MACHINES" in info.value.message
