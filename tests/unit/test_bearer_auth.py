"""Bearer tokens are read by FastAPI's HTTPBearer (documented in OpenAPI) and compared in
constant time: a machine's MACHINE_TOKEN on /energy-orders, /channel/close and
/source/goodbye, the devnet's faucet token (shared/auth.py's require_bearer: with no token
set the route is off unless explicitly open: MACHINE_OPEN, DEVNET_FAUCET_OPEN)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.devnet.app import create_app
from services.devnet.settings import DevnetSettings
from services.wind.settings import ProviderSettings
from shared.energy.source import attach_source
from shared.machine.app import create_machine_app
from shared.machine.processor import MachineConfig
from tests.support.process import free_port
from tests.unit.test_machine_processor import FakeWallet
from tests.unit.test_machine_socket import SilentFeed

TOKEN = "t0ken-of-at-least-16-chars"
ORDER = {"order_id": "o1", "robot": "robot 1", "amount": 10}
WRONG = [
    {},
    {"Authorization": "Bearer wrong-token-of-16-chars"},
    {"Authorization": f"Basic {TOKEN}"},
    {"Authorization": TOKEN},  # no scheme
    {"Authorization": "Bearer"},
    {"Authorization": b"Bearer \xfe\xff"},  # not ASCII: a 401, not a 500
]


@pytest.fixture
def provider(tmp_path: Path) -> Iterator[TestClient]:
    """A running wind provider with MACHINE_TOKEN (fake wallet, silent feed)."""
    with TestClient(_provider(tmp_path, TOKEN)) as client:
        yield client


def _provider(
    tmp_path: Path, token: str | None, *, open_: bool = False, producer_url: str | None = None
) -> Any:
    """A wind provider (fake wallet, silent feed); with ``producer_url``, a seed-001 source
    too (POST /source/goodbye), whose lifespan the guard tests never start."""
    settings = ProviderSettings(
        seed="A" * 81,
        name="wind",
        data_dir=tmp_path,
        machine_token=token,
        machine_open=open_,
        producer_url=producer_url,
    )
    config = MachineConfig(
        name="wind", kind="energy", price=10, work_seconds=0, order_timeout=30, poll_interval=1
    )
    machine = create_machine_app(
        settings,
        role="provider",
        config=config,
        wallet_factory=lambda _s, _u: FakeWallet(),
        feed_factory=SilentFeed,
    )
    return attach_source(machine, settings, "wind")


@pytest.mark.parametrize("headers", WRONG)
def test_provider_refuses_a_missing_or_wrong_token(
    provider: TestClient, headers: dict[str, Any]
) -> None:
    response = provider.post("/energy-orders", json=ORDER, headers=headers)
    assert response.status_code == 401
    assert response.json() == {"detail": "a valid 'Authorization: Bearer <MACHINE_TOKEN>' needed"}
    assert response.headers["www-authenticate"] == "Bearer"


def test_provider_accepts_its_token(provider: TestClient) -> None:
    for scheme in ("Bearer", "bearer"):
        response = provider.post(
            "/energy-orders", json=ORDER, headers={"Authorization": f"{scheme} {TOKEN}"}
        )
        assert response.status_code == 200, response.text
        assert response.json()["order_id"] == "o1"


# The three MACHINE_TOKEN routes and what each answers once past the guard, before the
# lifespan has started the machine: 503, the route's own "starting".
GUARDED = [
    ("/energy-orders", ORDER, "machine is starting"),
    ("/channel/close", None, "payment channels are starting"),
    ("/source/goodbye", None, "the source is starting"),
]
PRODUCER = "http://127.0.0.1:9"  # never called: the source's lifespan does not run here


@pytest.mark.parametrize(("path", "body", "starting"), GUARDED)
def test_machine_token_routes_follow_the_one_bearer_rule(
    tmp_path: Path, path: str, body: Any, starting: str
) -> None:
    right = {"Authorization": f"Bearer {TOKEN}"}
    # No token set, not open: off, naming the setting and its open switch.
    client = TestClient(_provider(tmp_path / "off", None, producer_url=PRODUCER))
    for headers in [{}, right]:
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 401, response.text
        assert response.json() == {
            "detail": "MACHINE_TOKEN is not set, so this route is off (or set MACHINE_OPEN=true)"
        }
        assert response.headers["www-authenticate"] == "Bearer"
    # The open switch, no token: anyone reaches the route.
    client = TestClient(_provider(tmp_path / "open", None, open_=True, producer_url=PRODUCER))
    response = client.post(path, json=body)
    assert (response.status_code, response.json()) == (503, {"detail": starting})
    # A token: a wrong or missing one is 401, even with the open switch on; the right one
    # reaches the route.
    for open_ in (False, True):
        app = _provider(tmp_path / f"token-{open_}", TOKEN, open_=open_, producer_url=PRODUCER)
        client = TestClient(app)
        for wrong in WRONG:
            response = client.post(path, json=body, headers=wrong)
            assert response.status_code == 401, (wrong, response.text)
            assert response.json() == {
                "detail": "a valid 'Authorization: Bearer <MACHINE_TOKEN>' needed"
            }
        response = client.post(path, json=body, headers=right)
        assert (response.status_code, response.json()) == (503, {"detail": starting})


def test_running_provider_closes_its_channels_with_its_token(provider: TestClient) -> None:
    assert provider.post("/channel/close").status_code == 401
    response = provider.post("/channel/close", headers={"Authorization": f"Bearer {TOKEN}"})
    assert (response.status_code, response.json()) == (200, {"closing": []})


def test_machine_open_switch_opens_energy_orders_of_a_running_provider(tmp_path: Path) -> None:
    with TestClient(_provider(tmp_path, None, open_=True)) as client:
        assert client.post("/energy-orders", json=ORDER).status_code == 200
    with TestClient(_provider(tmp_path, None)) as client:
        assert client.post("/energy-orders", json=ORDER).status_code == 401


def test_provider_openapi_documents_the_bearer_scheme(tmp_path: Path) -> None:
    schema = TestClient(_provider(tmp_path, TOKEN, producer_url=PRODUCER)).get("/openapi.json")
    components = schema.json()["components"]
    paths = schema.json()["paths"]
    assert components["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for path, _, _ in GUARDED:
        assert paths[path]["post"]["security"] == [{"HTTPBearer": []}], path


def _devnet(tmp_path: Path, **settings: Any) -> Any:
    return create_app(
        DevnetSettings(
            host="127.0.0.1",
            zmq_port=free_port(),
            data_dir=tmp_path,
            milestone_interval=3600,
            **settings,
        )
    )


@pytest.fixture
def devnet(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(_devnet(tmp_path, faucet_token=TOKEN)) as client:
        yield client


def test_devnet_faucet_token(devnet: TestClient) -> None:
    body = {"address": "9" * 81, "value": 1}
    for headers in WRONG:
        response = devnet.post("/faucet", json=body, headers=headers)
        assert response.status_code == 401, (headers, response.text)
        assert response.json() == {
            "error": "a valid 'Authorization: Bearer <DEVNET_FAUCET_TOKEN>' needed"
        }
        assert response.headers["www-authenticate"] == "Bearer"
    # with the token the faucet itself answers (no milestone yet here: not a 401)
    response = devnet.post("/faucet", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code != 401, response.text
    security = devnet.get("/openapi.json").json()["paths"]["/faucet"]["post"]["security"]
    assert security == [{"HTTPBearer": []}]


def test_devnet_faucet_without_a_token_is_off_unless_explicitly_open(tmp_path: Path) -> None:
    body = {"address": "9" * 81, "value": 1}
    with TestClient(_devnet(tmp_path / "off")) as client:
        response = client.post("/faucet", json=body, headers={"Authorization": "Bearer x"})
        assert response.status_code == 401
        assert response.json() == {
            "error": "DEVNET_FAUCET_TOKEN is not set, so this route is off "
            "(or set DEVNET_FAUCET_OPEN=true)"
        }
    with TestClient(_devnet(tmp_path / "open", faucet_open=True)) as client:
        assert client.post("/faucet", json=body).status_code != 401
    # a token, when set, is needed even with the open switch on
    with TestClient(_devnet(tmp_path / "both", faucet_open=True, faucet_token=TOKEN)) as client:
        assert client.post("/faucet", json=body).status_code == 401
