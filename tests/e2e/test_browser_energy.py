"""The energy view in headless Chromium: real devnet, grid, producer, wind, consumer and
dashboard processes; the page's plotly charts draw the data points they poll for.

The screenshot lands in test-artifacts/energy-view.png.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.energy.parties import patient_devnet, start_all
from tests.integration.robot.machines import machine_env
from tests.support.devnet import free_port

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
    with contextlib.ExitStack() as stack:
        devnet = stack.enter_context(patient_devnet(tmp_path / "devnet"))
        common: dict[str, Any] = {"slice_seconds": SLICE, "min_weight_magnitude": devnet.mwm}

        def env(name: str, **extra: Any) -> dict[str, str]:
            return machine_env(devnet, name, tmp_path / name, **{**common, **extra})

        def url(of: dict[str, str]) -> str:
            return f"http://127.0.0.1:{of['PORT']}"

        grid = env("grid", settle_delay_seconds=1, poll_seconds=0.5)
        producer = env("producer", grid_url=url(grid), poll_seconds=0.5)
        wind = env("wind", producer_url=url(producer), time_scale=360)
        consumer = env(
            "consumer",
            grid_url=url(grid),
            faucet_url=devnet.api_url,
            faucet_amount=100_000,
            time_scale=360,
            poll_seconds=0.5,
        )
        dashboard = {
            "PORT": str(free_port()),
            "HOST": "127.0.0.1",
            "FAUCET_URL": devnet.api_url,
            "MACHINES": "[]",
            "ENERGY_GRID_URL": url(grid),
            "ENERGY_PRODUCER_URLS": url(producer),
            "ENERGY_CONSUMER_URLS": url(consumer),
            "ENERGY_REFRESH_SECONDS": "1",
        }
        specs = [
            (module, spec, tmp_path / module)
            for module, spec in (
                ("grid", grid),
                ("producer", producer),
                ("wind", wind),
                ("consumer", consumer),
                ("dashboard", dashboard),
            )
        ]
        start_all(specs, stack)
        yield url(dashboard)


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
            page.locator("#nav").get_by_role("link", name="Energy", exact=True).click()
            expect(page).to_have_url(grid_economy + "/ui/energy.html", timeout=30_000)
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
            # kWh as a person reads them: at most three decimals (the grid's floats, such
            # as 42.621888000000006, rounded), tokens as integers.
            expect(page.locator("#producers tbody tr").first).to_be_visible(timeout=240_000)
            cells = page.evaluate(
                "() => [...document.querySelectorAll("
                "'#totals td, #consumers td, #producers td')].map(td => td.textContent)"
            )
            numbers = [c for c in cells if re.fullmatch(r"-?\d+(\.\d+)?", c)]
            assert numbers, cells
            too_precise = [c for c in numbers if re.fullmatch(r"-?\d+\.\d{4,}", c)]
            assert not too_precise, too_precise
            # each root opens the explorer's MAM reader
            links = page.locator("#channels td.root a.explorer-link.mam")
            roots = [links.nth(i).get_attribute("data-value") for i in range(links.count())]
            assert any(root is not None and len(root) == 81 for root in roots), roots
            page.screenshot(path=str(ARTIFACTS / "energy-view.png"), full_page=True)
            # nothing came from a CDN: every request went to the local dashboard
            assert all(url.startswith("http://127.0.0.1") for url in requested), requested
        finally:
            browser.close()
