"""The controller as a service: body size limit, log format, security in OpenAPI."""

from __future__ import annotations

import re

import pytest

from services.lock.app import MAX_BODY_BYTES
from tests.integration.lock.conftest import Processes

pytestmark = pytest.mark.integration

LINE = re.compile(r"^ts=\S+Z level=[A-Z]+ service=lock logger=\S+ \w+=")


def test_huge_body_is_refused_and_the_service_keeps_serving(processes: Processes) -> None:
    ctl = processes.controller()
    auth = {"Authorization": f"Bearer {ctl.admin_token}"}
    huge = b'{"name": "' + b"x" * (2 * MAX_BODY_BYTES) + b'"}'
    reply = ctl.http.post(
        "/circles", content=huge, headers=auth | {"Content-Type": "application/json"}
    )
    assert reply.status_code == 413
    assert f"larger than {MAX_BODY_BYTES} bytes" in reply.json()["message"]

    # Nothing stored, and everything else still works.
    assert ctl.http.get("/health").json()["status"] == "ok"
    assert ctl.admin("POST", "/circles", json={"name": "after"})["name"] == "after"
    assert [c["name"] for c in ctl.admin("GET", "/circles")] == ["admin", "after"]


def test_logs_are_key_value_lines_and_openapi_documents_auth(processes: Processes) -> None:
    ctl = processes.controller(LOG_LEVEL="info")  # any case is accepted
    ctl.admin("GET", "/me")
    lines = [line for line in ctl.log.read_text().splitlines() if line]
    assert any("event=lock_controller_start" in line for line in lines), lines
    assert all(LINE.match(line) for line in lines), lines
    schemes = ctl.http.get("/openapi.json").json()["components"]["securitySchemes"]
    assert {s["scheme"].lower() for s in schemes.values()} == {"basic", "bearer"}
