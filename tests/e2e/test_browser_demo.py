"""The browser demo in headless Chromium: order from robot 1, pay from the faucet, see it made.

Real devnet, wind, robot and dashboard processes; Debian's chromium driven by Playwright.
The screenshot lands in test-artifacts/browser-demo.png.
"""

from __future__ import annotations

import contextlib
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
    """devnet + wind + robot 1 + solar + robot 2 + dashboard; yields the dashboard URL."""
    token = secrets.token_hex(16)
    with contextlib.ExitStack() as stack:
        devnet = stack.enter_context(devnet_fixture(tmp_path / "devnet", milestone_interval=0.5))

        def start(module: str, name: str, **extra: object) -> ServiceProcess:
            data = tmp_path / name.replace(" ", "-")
            env = machine_env(devnet, name, data, machine_token=token, **extra)
            return stack.enter_context(ServiceProcess(module, env, data))

        machines = []
        for robot_name, provider_module in (("robot 1", "wind"), ("robot 2", "solar")):
            provider = start(provider_module, provider_module, work_seconds=0.5)
            robot = start("robot", robot_name, provider_url=provider.url, work_seconds=0.5)
            machines += [
                {"name": robot_name, "url": robot.url, "provider": provider_module},
                {"name": provider_module, "url": provider.url},
            ]
        dashboard_env = {
            "PORT": str(free_port()),
            "HOST": "127.0.0.1",
            "MACHINES": json.dumps(machines),
            "FAUCET_URL": devnet.api_url,
        }
        dashboard = stack.enter_context(
            ServiceProcess("dashboard", dashboard_env, tmp_path / "dashboard")
        )
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
            for other in ("robot 2", "solar"):
                expect(page.locator(f'[data-machine="{other}"] .status')).to_have_text(
                    "waiting_for_order", timeout=20_000
                )
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
