"""Default ports: the dashboard's is the one compose publishes (8000) and differs from the
lock controller's (8080), so both run side by side with no settings at all."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from services.dashboard.settings import DashboardSettings

_COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def test_dashboard_defaults_to_8000_as_compose_and_docs_say(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PORT", raising=False)
    assert DashboardSettings().port == 8000
    services = yaml.safe_load(_COMPOSE.read_text())["services"]
    assert services["dashboard"]["environment"]["PORT"] == "8000"
    assert "http://localhost:8000/" in (_COMPOSE.parent / "docs" / "dashboard.md").read_text()
