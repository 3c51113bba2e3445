"""The browser demo in headless Chromium: order from robot 1, pay from the faucet, see it made.

Real devnet, wind, robot and dashboard processes; Debian's chromium driven by Playwright.
The screenshot lands in test-artifacts/browser-demo.png.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.robot.machines import ServiceProcess, machine_env
from tests.support.devnet import devnet_fixture, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

if not CHROMIUM.exists():
    pytest.skip("Debian's chromium (/usr/bin/chromium) is not installed", allow_module_level=True)


@pytest.fixture
def economy(tmp_path: Path) -> Iterator[str]:
    """devnet + wind + robot 1 + dashboard; yields the dashboard URL."""
    token = secrets.token_hex(16)
    with devnet_fixture(tmp_path / "devnet", milestone_interval=0.5) as devnet:
        wind = ServiceProcess(
            "wind",
            machine_env(devnet, "wind", tmp_path / "wind", work_seconds=0.5, machine_token=token),
            tmp_path / "wind",
        )
        with wind:
            robot_env = machine_env(
                devnet,
                "robot 1",
                tmp_path / "robot",
                provider_url=wind.url,
                work_seconds=0.5,
                machine_token=token,
            )
            with ServiceProcess("robot", robot_env, tmp_path / "robot") as robot:
                machines = [
                    {"name": "robot 1", "url": robot.url, "provider": "wind"},
                    {"name": "wind", "url": wind.url},
                ]
                dashboard_env = {
                    "PORT": str(free_port()),
                    "HOST": "127.0.0.1",
                    "MACHINES": json.dumps(machines),
                    "FAUCET_URL": devnet.api_url,
                }
                with ServiceProcess("dashboard", dashboard_env, tmp_path / "dash") as dashboard:
                    yield dashboard.url


def test_order_and_pay_from_the_page(economy: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            requested: list[str] = []
            page.on("request", lambda request: requested.append(request.url))
            page.goto(economy + "/", wait_until="domcontentloaded")
            robot = page.locator('[data-machine="robot 1"]')
            wind = page.locator('[data-machine="wind"]')
            expect(robot.locator(".status")).to_have_text("waiting_for_order", timeout=20_000)
            expect(wind.locator(".status")).to_have_text("waiting_for_order", timeout=20_000)
            expect(robot.locator(".balance")).to_have_text("0i")

            robot.locator("button.order").click()
            expect(robot.locator(".status")).to_have_text("waiting_for_tx", timeout=20_000)
            robot.locator("button.pay").click()
            # wind gets paid and delivers while the robot works
            expect(robot.locator(".made")).to_have_text("1", timeout=60_000)
            expect(robot.locator(".status")).to_have_text("waiting_for_order")
            expect(wind.locator(".balance")).to_have_text("10i", timeout=30_000)
            expect(robot.locator(".balance")).to_have_text("90i", timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "browser-demo.png"), full_page=True)
            log_text = page.locator("#log").inner_text()
            assert "product finished" in log_text and "payment sent" in log_text
            # nothing left the machine: every request went to our own local services
            assert all(url.startswith(("http://127.0.0.1", "ws://127.0.0.1")) for url in requested)
        finally:
            browser.close()
