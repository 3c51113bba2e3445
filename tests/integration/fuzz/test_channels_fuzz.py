"""Fuzz a channel node (``python -m services.channels``) with schemathesis against its live
/openapi.json, with the admin token, so the admin routes are reached too.

A real devnet and a real channel node. Checked (schemathesis ``--checks all``, see
CHECKS): no server error, every status code declared, replies and content types match
the schema, schema-invalid input refused with a 4xx; the node is healthy after.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import given

from tests.integration.fuzz.conftest import fuzz_settings
from tests.integration.fuzz.openapi_checks import all_checks_but
from tests.support.channels import ChannelProcess
from tests.support.devnet import DevnetProcess

pytestmark = pytest.mark.integration

# --checks all: schemathesis' not_a_server_error is replaced by ours below (502 is the
# documented answer when the peer named in a request cannot be reached); a schema-valid
# channel proposal or payment can be refused for what no schema says (its keys, its
# signature, the channel's state), so positive_data_acceptance does not apply here.
CHECKS = all_checks_but("not_a_server_error", "positive_data_acceptance")


@pytest.fixture(scope="module")
def node(devnet: DevnetProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    data: Path = tmp_path_factory.mktemp("channels-fuzz")
    # A peer URL that refuses at once (nothing listens there): create answers 502 quickly.
    with ChannelProcess("fuzzed", devnet, data) as process:
        yield process


def not_a_server_error(ctx: Any, response: Any, case: Any) -> bool | None:
    status = response.status_code
    assert status < 500 or status == 502, (
        f"{case.method} {case.formatted_path} -> {status}: {response.text[:500]}"
    )
    assert "Traceback" not in response.text
    return None


def _headers(node: ChannelProcess) -> dict[str, str]:
    return {"Authorization": f"Bearer {node.token}"}


def _unharmed(node: ChannelProcess) -> None:
    assert httpx.get(f"{node.url}/health", timeout=30).json()["status"] == "ok"


def test_schemathesis_positive(node: ChannelProcess) -> None:
    schema = schemathesis.openapi.from_url(f"{node.url}/openapi.json")

    @fuzz_settings(150)
    @given(case=schema.as_strategy())
    def run(case: Any) -> None:
        case.call_and_validate(
            headers=_headers(node),
            checks=[*CHECKS, not_a_server_error],
            timeout=30,
        )

    run()
    _unharmed(node)


def test_schemathesis_negative(node: ChannelProcess) -> None:
    schema = schemathesis.openapi.from_url(f"{node.url}/openapi.json")

    @fuzz_settings(150)
    @given(case=schema.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE))
    def run(case: Any) -> None:
        case.call_and_validate(
            headers=_headers(node),
            checks=[*CHECKS, not_a_server_error],
            timeout=30,
        )

    run()
    _unharmed(node)


def test_bad_peer_is_a_422_naming_the_field_and_a_dead_one_a_502(node: ChannelProcess) -> None:
    for peer in ("not a url", "ftp://x/y", "http://", "http://[::1"):
        answer = node.client.post("/channels", json={"peer": peer, "amount": 1})
        assert answer.status_code == 422, (peer, answer.text)
        assert "peer" in answer.text
    from tests.support.process import free_port

    dead = f"http://127.0.0.1:{free_port()}/channels/peer"
    answer = node.client.post("/channels", json={"peer": dead, "amount": 1})
    assert answer.status_code == 502, answer.text
    spec = httpx.get(f"{node.url}/openapi.json", timeout=30).json()
    assert "/channels/peer/pay" in spec["paths"]
    assert "502" in spec["paths"]["/channels"]["post"]["responses"]
