"""The pages' numbers are the services' numbers: headless Chromium against real processes.

devnet + wind + robot 1 + dashboard, started like tests/e2e/test_browser_overview.py.
Checked against the services' own APIs:

- an empty chart says so in words (no date axis around nothing, which plotly draws at the
  year 2000);
- "tokens moved" is what went from one owner to another (the faucet's payment to the robot
  and the robot's payout to wind, read from the robot's ``GET /orders``), not the
  remainders the faucet and the robot send back to themselves;
- "products finished" on the card and "products made" in the totals equal the robot's
  ``GET /stats``, also after a reload;
- the page never asks robot 1 (which pays on the ledger) for a ``/channel`` it does not have.

Screenshots: test-artifacts/numbers-empty.png and test-artifacts/numbers.png.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.robot.machines import ServiceProcess, machine_env
from tests.support.devnet import DevnetProcess, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.timeout(1200)]

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]

if not CHROMIUM.exists():
    pytest.skip("Debian's chromium (/usr/bin/chromium) is not installed", allow_module_level=True)


def _started(stack: contextlib.ExitStack, process: ServiceProcess) -> ServiceProcess:
    # Generous: on the shared 2-core machine a service's start has taken over 120 s.
    stack.callback(process.stop)
    return process.start(timeout=400)


@pytest.fixture(scope="module")
def economy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    root = tmp_path_factory.mktemp("numbers")
    token = secrets.token_hex(16)
    with contextlib.ExitStack() as stack:
        devnet = DevnetProcess(root / "devnet", milestone_interval=0.5)
        stack.callback(devnet.stop)
        devnet.start(timeout=400)  # generous, like the services below

        def start(module: str, name: str, **extra: object) -> ServiceProcess:
            data = root / name.replace(" ", "-")
            env = machine_env(devnet, name, data, machine_token=token, **extra)
            return _started(stack, ServiceProcess(module, env, data))

        wind = start("wind", "wind", work_seconds=0.5)
        robot = start("robot", "robot 1", provider_url=wind.url, work_seconds=0.5)
        machines = [
            {"name": "robot 1", "url": robot.url, "provider": "wind"},
            {"name": "wind", "url": wind.url},
        ]
        env = {
            "PORT": str(free_port()),
            "HOST": "127.0.0.1",
            "MACHINES": json.dumps(machines),
            "FAUCET_URL": devnet.api_url,
            "COLLECT_SECONDS": "0.5",
        }
        dashboard = _started(stack, ServiceProcess("dashboard", env, root / "dashboard"))
        yield {"dashboard": dashboard.url, "robot": robot.url, "wind": wind.url}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


def _number(text: str) -> int:
    return int(text.replace(",", "").strip())


def test_the_pages_numbers_are_the_services_numbers(economy: dict[str, str], browser: Any) -> None:
    from playwright.sync_api import expect

    url, robot_url = economy["dashboard"], economy["robot"]
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(url + "/ui/", wait_until="domcontentloaded")
    robot = page.locator('[data-machine="robot 1"]')
    expect(robot.locator(".status")).to_have_text("waiting_for_order", timeout=30_000)

    # No order has finished yet: the latency chart says so instead of drawing an empty axis.
    latency = page.locator("#chart-latency")
    empty = page.locator(".chart-box:has(#chart-latency) .empty-state")
    expect(empty).to_be_visible(timeout=10_000)
    expect(empty).to_contain_text("no order finished yet")
    assert "2000" not in latency.inner_text()
    page.screenshot(path=str(ARTIFACTS / "numbers-empty.png"), full_page=True)

    robot.locator("button.order").click()
    expect(robot.locator(".status")).to_have_text("waiting_for_tx", timeout=20_000)
    robot.locator("button.pay").click()
    expect(robot.locator(".made")).to_have_text("1", timeout=60_000)

    # The robot's own numbers: the product it made, what it was paid and what it paid on.
    stats = httpx.get(robot_url + "/stats", timeout=10).json()
    assert stats["finished"]["products"] == 1 and stats["channel"] is False
    [order] = httpx.get(robot_url + "/orders", timeout=10).json()
    assert order["state"] == "done" and order["payout_value"] > 0
    moved = order["price"] + order["payout_value"]  # faucet -> robot, robot -> wind

    # Once both transfers are confirmed the total is exactly that: no remainder counted.
    page.wait_for_function(
        "(expected) => document.getElementById('total-tokens_moved').textContent"
        ".replaceAll(',', '') === String(expected)",
        arg=moved,
        timeout=60_000,
    )
    expect(page.locator("#total-products_made")).to_have_text("1", timeout=10_000)
    expect(empty).to_be_hidden()  # the finished order is drawn now

    # A reload shows what the robot has made, not what this page happened to watch.
    page.reload(wait_until="domcontentloaded")
    robot = page.locator('[data-machine="robot 1"]')
    expect(robot.locator(".status")).to_have_text("waiting_for_order", timeout=30_000)
    expect(robot.locator(".made")).to_have_text(str(stats["finished"]["products"]), timeout=10_000)
    expect(page.locator("#total-products_made")).to_have_text("1", timeout=10_000)
    assert _number(page.locator("#total-tokens_moved").inner_text()) == moved
    # robot 1 pays on the ledger: its card says so, and the page never asked for /channel
    expect(robot.locator(".channel")).to_have_text("none (pays on the ledger)", timeout=10_000)
    page.wait_for_timeout(3_500)  # longer than the page's channel refresh (3 s)
    assert robot_url + "/channel" not in requested
    wind_stats = httpx.get(economy["wind"] + "/stats", timeout=10).json()
    wind_card = page.locator('[data-machine="wind"]')
    expect(wind_card.locator(".made")).to_have_text(str(wind_stats["finished"]["energy"]))
    page.screenshot(path=str(ARTIFACTS / "numbers.png"), full_page=True)
    page.close()
