"""The dashboard's faucet proxy is limited per client and capped in value; bodies are bounded."""

from __future__ import annotations

from fastapi.testclient import TestClient

from services.dashboard.app import PayLimiter, create_app
from services.dashboard.settings import DashboardSettings
from tests.support.devnet import free_port

ADDRESS = "A" * 81


def test_one_client_is_limited_while_another_still_pays() -> None:
    # The faucet is a dead port: each allowed payment ends in 502, a limited one in 429.
    settings = DashboardSettings(
        faucet_url=f"http://127.0.0.1:{free_port()}", pay_per_minute=3, pay_value_per_hour=10_000
    )
    app = create_app(settings)
    with (
        TestClient(app, client=("10.0.0.1", 40000)) as flooder,
        TestClient(app, client=("10.0.0.2", 40000)) as other,
    ):
        answers = [
            flooder.post("/api/pay", json={"address": ADDRESS, "value": 1}) for _ in range(5)
        ]
        assert [a.status_code for a in answers] == [502, 502, 502, 429, 429]
        assert "at most 3 payments per minute" in answers[3].json()["detail"]
        assert answers[3].headers["retry-after"] == "60"
        assert other.post("/api/pay", json={"address": ADDRESS, "value": 1}).status_code == 502


def test_value_per_hour_is_capped_per_client() -> None:
    limiter = PayLimiter(per_minute=100, value_per_hour=1000)
    assert limiter.check("a", 600, now=0) is None
    refused = limiter.check("a", 500, now=10)
    assert refused is not None and "at most 1000i per hour" in refused
    assert limiter.check("b", 1000, now=10) is None
    assert limiter.check("a", 400, now=20) is None
    assert limiter.check("a", 1, now=30) is not None
    assert limiter.check("a", 1000, now=3621) is None  # an hour later the window has moved


def test_huge_body_is_413_and_the_dashboard_is_fine() -> None:
    settings = DashboardSettings(faucet_url=f"http://127.0.0.1:{free_port()}")
    with TestClient(create_app(settings)) as client:
        reply = client.post(
            "/api/pay",
            content=b'{"address": "' + b"A" * 1_000_000 + b'"}',
            headers={"content-type": "application/json"},
        )
        assert reply.status_code == 413
        assert reply.json()["error"] == "request body larger than 16384 bytes"
        assert client.get("/health").json()["status"] == "ok"
