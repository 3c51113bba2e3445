"""Bearer tokens are read by FastAPI's HTTPBearer (documented in OpenAPI) and compared in
constant time: the provider's MACHINE_TOKEN on /energy-orders, the devnet's faucet token
(shared/auth.py's require_bearer: with no token set the route is off unless explicitly open)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.devnet.app import create_app
from services.devnet.settings import DevnetSettings
from services.wind.settings import ProviderSettings
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


def _provider(tmp_path: Path, token: str | None) -> Any:
    settings = ProviderSettings(seed="A" * 81, name="wind", data_dir=tmp_path, machine_token=token)
    config = MachineConfig(
        name="wind", kind="energy", price=10, work_seconds=0, order_timeout=30, poll_interval=1
    )
    return create_machine_app(
        settings,
        role="provider",
        config=config,
        wallet_factory=lambda _s, _u: FakeWallet(),
        feed_factory=SilentFeed,
    )


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


def test_provider_without_a_token_is_open(tmp_path: Path) -> None:
    with TestClient(_provider(tmp_path, None)) as client:
        assert client.post("/energy-orders", json=ORDER).status_code == 200


def test_provider_openapi_documents_the_bearer_scheme(provider: TestClient) -> None:
    schema = provider.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert schema["paths"]["/energy-orders"]["post"]["security"] == [{"HTTPBearer": []}]


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
