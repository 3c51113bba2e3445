"""The dashboard's Access panel (issue 23) against a real lock controller.

``GET /api/access`` of the dashboard (in-process) reads a real controller process (Mosquitto,
the firmware device): tools and prices for anyone, sessions and income with the account of
``LOCK_USER`` / ``LOCK_PASSWORD``, through a bearer token it renews when refused. The browser
test adds the devnet and a payer: a paid session bought over a channel shows in headless
Chromium (screenshot ``test-artifacts/access-panel.png``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from services.dashboard.app import create_app
from services.dashboard.settings import DashboardSettings
from tests.integration.lock.conftest import ADMIN_PASSWORD, Controller, Processes
from tests.integration.lock.test_pay_per_use import PRICE, _open, _paid, _setup
from tests.support.channels import ChannelProcess
from tests.support.devnet import DevnetProcess
from tests.support.process import ManagedProcess, free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1200)]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"


def _tools(controller: Controller) -> None:
    controller.admin(
        "POST",
        "/tools",
        json={
            "name": "laser",
            "device_id": "lock-a",
            "lock_index": 0,
            "pricing": "paid",
            "price_per_minute": 7,
            "min_minutes": 2,
        },
    )
    controller.admin(
        "POST", "/tools", json={"name": "drill", "device_id": "lock-a", "lock_index": 1}
    )


def _dashboard(controller: Controller, password: str) -> TestClient:
    settings = DashboardSettings.model_validate(
        {
            "faucet_url": "http://127.0.0.1:9",
            "machines": [],
            "lock_url": controller.url,
            "lock_user": "admin",
            "lock_password": password,
        }
    )
    return TestClient(create_app(settings))


def test_api_access_reads_tools_prices_sessions_and_income(processes: Processes) -> None:
    processes.device("lock-a", locks=2)
    controller = processes.controller()
    _tools(controller)
    with _dashboard(controller, ADMIN_PASSWORD) as client:
        body = client.get("/api/access").json()
        assert body["configured"] is True and body["up"] is True and body["account"] is True
        tools = {t["name"]: t for t in body["tools"]}
        assert (tools["laser"]["pricing"], tools["laser"]["price_per_minute"]) == ("paid", 7)
        assert tools["laser"]["min_minutes"] == 2
        assert tools["drill"]["pricing"] == "member"
        assert body["sessions"] == []
        assert body["income"]["total"] == 0 and body["income"]["refused"] == 0
        # The token is kept, and renewed when the lock refuses it (expired, data reset).
        reader = client.app.state.lock_reader  # type: ignore[attr-defined]
        token = reader._token
        assert token and client.get("/api/access").json()["income"] is not None
        assert reader._token == token
        reader._token = "not-a-token"
        assert client.get("/api/access").json()["income"]["total"] == 0
        assert reader._token not in (None, "not-a-token")


def test_api_access_without_a_valid_account_shows_the_tools_only(processes: Processes) -> None:
    processes.device("lock-a", locks=2)
    controller = processes.controller()
    _tools(controller)
    with _dashboard(controller, "wrong-password-1") as client:
        body = client.get("/api/access").json()
    assert body["up"] is True
    assert [t["price_per_minute"] for t in body["tools"]] == [7, 0]
    assert body["sessions"] == [] and body["income"] is None
    # No lock at all: the panel says so instead of failing.
    settings = DashboardSettings.model_validate(
        {"faucet_url": "http://127.0.0.1:9", "machines": []}
    )
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/access").json()["configured"] is False
    controller.proc.terminate()
    controller.proc.wait(10)
    with _dashboard(controller, ADMIN_PASSWORD) as client:
        assert client.get("/api/access").json()["up"] is False


@pytest.fixture
def dashboard_for(tmp_path: Path) -> Iterator[Any]:
    started: list[ManagedProcess] = []

    def start(controller: Controller, devnet: DevnetProcess) -> str:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        process = ManagedProcess(
            "dashboard",
            ["-m", "services.dashboard"],
            env={
                "PORT": str(port),
                "HOST": "127.0.0.1",
                "MACHINES": "[]",
                "FAUCET_URL": devnet.api_url,
                "LOCK_URL": controller.url,
                "LOCK_USER": "admin",
                "LOCK_PASSWORD": ADMIN_PASSWORD,
            },
            log_path=tmp_path / "dashboard.log",
        )
        started.append(process)
        process.start(lambda: None if httpx.get(url + "/").status_code == 200 else "starting")
        return url

    yield start
    for process in started:
        process.stop()


@pytest.mark.e2e
@pytest.mark.browser
def test_access_panel_shows_a_paid_tools_price_and_its_session(
    processes: Processes,
    devnet: DevnetProcess,
    payer: ChannelProcess,
    tmp_path: Path,
    dashboard_for: Any,
) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium (/usr/bin/chromium) is not installed")
    from playwright.sync_api import expect, sync_playwright

    # Real minutes: the session stays active while the page is looked at.
    controller, _ = _setup(processes, devnet, tmp_path, minute=60)
    cid = _open(payer, controller, 500)
    answer = _paid(payer, cid, PRICE * 3)
    assert answer["state"] == "unlocked"
    url = dashboard_for(controller, devnet)
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            requested: list[str] = []
            page.on("request", lambda request: requested.append(request.url))
            page.goto(url + "/ui/", wait_until="domcontentloaded")
            page.locator("#nav").get_by_role("link", name="Access", exact=True).click()
            expect(page.locator("#access-status")).to_contain_text("live", timeout=60_000)
            laser = page.locator("#access-tools tbody tr", has_text="laser")
            # name, pricing, price a minute, min minutes, lock, session, income
            expect(laser.locator("td").nth(1)).to_have_text("paid")
            expect(laser.locator("td").nth(2)).to_have_text(str(PRICE))
            expect(laser.locator("td").nth(4)).to_have_text("unlocked")
            expect(laser.locator("td").nth(5)).to_have_text(f"session {answer['session']} (active)")
            expect(laser.locator("td").nth(6)).to_have_text(str(PRICE * 3))
            session = page.locator("#access-sessions tbody tr").first
            expect(session.locator("td").nth(0)).to_have_text(str(answer["session"]))
            expect(session.locator("td").nth(1)).to_have_text("laser")
            expect(session.locator("td").nth(2)).to_have_text("active")
            expect(session.locator("td").nth(3)).to_have_text(str(PRICE * 3))
            expect(session.locator("td").nth(4)).to_have_text("3")
            expect(page.locator("#access-income")).to_have_text(str(PRICE * 3))
            page.screenshot(path=str(ARTIFACTS / "access-panel.png"), full_page=True)
            # the page asked only the dashboard: the lock is read server side
            assert all(u.startswith(url) for u in requested), requested
        finally:
            browser.close()
