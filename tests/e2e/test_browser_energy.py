"""The energy view in headless Chromium: real devnet, grid, producer, wind, consumer and
dashboard processes; the page's plotly charts draw the data points they poll for.

The screenshot lands in test-artifacts/energy-view.png.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.robot.machines import ServiceProcess, machine_env
from tests.support.devnet import devnet_fixture, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.timeout(900)]

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
SLICE = 3

if not CHROMIUM.exists():
    pytest.skip("Debian's chromium (/usr/bin/chromium) is not installed", allow_module_level=True)


@pytest.fixture
def grid_economy(tmp_path: Path) -> Iterator[str]:
    """devnet + grid + producer + wind + consumer + dashboard; yields the dashboard URL."""
    token = secrets.token_hex(16)
    with contextlib.ExitStack() as stack:
        devnet = stack.enter_context(devnet_fixture(tmp_path / "devnet", milestone_interval=0.5))
        common: dict[str, Any] = {"slice_seconds": SLICE, "min_weight_magnitude": devnet.mwm}

        def start(module: str, name: str, **extra: Any) -> ServiceProcess:
            data = tmp_path / name
            process = ServiceProcess(module, machine_env(devnet, name, data, **extra), data)
            stack.callback(process.stop)
            return process.start(timeout=300)

        grid = start("grid", "grid", settle_delay_seconds=1, poll_seconds=0.5, **common)
        producer = start("producer", "producer", grid_url=grid.url, poll_seconds=0.5, **common)
        start(
            "wind",
            "wind",
            producer_url=producer.url,
            machine_token=token,
            time_scale=360,
            **common,
        )
        consumer = start(
            "consumer",
            "consumer",
            grid_url=grid.url,
            faucet_url=devnet.api_url,
            faucet_amount=100_000,
            time_scale=360,
            poll_seconds=0.5,
            **common,
        )
        dashboard_env = {
            "PORT": str(free_port()),
            "HOST": "127.0.0.1",
            "FAUCET_URL": devnet.api_url,
            "MACHINES": "[]",
            "ENERGY_GRID_URL": grid.url,
            "ENERGY_PRODUCER_URLS": producer.url,
            "ENERGY_CONSUMER_URLS": consumer.url,
            "ENERGY_REFRESH_SECONDS": "1",
        }
        dashboard = ServiceProcess("dashboard", dashboard_env, tmp_path / "dashboard")
        stack.callback(dashboard.stop)
        dashboard.start(timeout=300)
        yield dashboard.url


def test_energy_view_draws_live_charts(grid_economy: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            requested: list[str] = []
            page.on("request", lambda request: requested.append(request.url))
            page.goto(grid_economy + "/ui/", wait_until="domcontentloaded")
            page.get_by_role("link", name="The energy grid").click()
            expect(page).to_have_url(grid_economy + "/ui/energy/", timeout=30_000)
            expect(page.locator("#energy-status")).to_contain_text("live", timeout=120_000)
            # Each chart has drawn points: plotly renders one path per marker.
            for chart in ("sources", "producers", "consumers"):
                expect(page.locator(f"#chart-{chart} .scatterlayer .point").first).to_be_visible(
                    timeout=240_000
                )
            expect(page.locator("#chart-price .scatterlayer .point").first).to_be_visible(
                timeout=240_000
            )
            points = page.evaluate(
                "() => [...document.querySelectorAll('.chart')].map(c => Number(c.dataset.points))"
            )
            assert all(n > 0 for n in points), points
            # The books and the channel roots are there too.
            expect(page.locator("#totals tbody tr").first).to_be_visible(timeout=60_000)
            roots = page.locator("#channels td.root").all_inner_texts()
            assert any(len(root) == 81 for root in roots), roots
            page.screenshot(path=str(ARTIFACTS / "energy-view.png"), full_page=True)
            # nothing came from a CDN: every request went to the local dashboard
            assert all(url.startswith("http://127.0.0.1") for url in requested), requested
        finally:
            browser.close()
