"""The producer's registration API on a real producer process and devnet: the seed's own
example bodies, the documented variants, every error with the seed's body and a real 4xx,
and schemathesis over its OpenAPI finding no server error."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import given
from schemathesis.specs.openapi.checks import response_schema_conformance

from shared.db import make_engine, make_sessionmaker, sqlite_url
from shared.energy.channels import ChannelBook
from shared.energy.messages import Hello, Output
from shared.energy.models import STORE as ENERGY_STORE
from shared.mam.tangle import NodeApi
from shared.migrations import upgrade
from tests.integration.fuzz.conftest import fuzz_settings
from tests.integration.robot.machines import ServiceProcess, machine_env
from tests.support.devnet import DevnetProcess, devnet_fixture

# Generous: the machine the suite runs on may be busy.
HTTP = httpx.Client(timeout=120)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevnetProcess]:
    with devnet_fixture(tmp_path_factory.mktemp("devnet"), milestone_interval=0.5) as node:
        yield node


@pytest.fixture(scope="module")
def producer(
    devnet: DevnetProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    data = tmp_path_factory.mktemp("producer")
    env = machine_env(devnet, "producer", data, slice_seconds=2, max_body_bytes=4096)
    process = ServiceProcess("producer", env, data).start(timeout=300)
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def book(devnet: DevnetProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChannelBook]:
    """Channels written by the test (standing in for sources)."""
    engine = make_engine(sqlite_url(tmp_path_factory.mktemp("sources"), "sources"))
    upgrade(engine, ENERGY_STORE)
    with NodeApi(devnet.api_url) as node:
        yield ChannelBook(node, make_sessionmaker(engine), mwm=devnet.mwm)


def channel_with_hello(book: ChannelBook, name: str) -> tuple[str, str]:
    channel = book.ensure(name)
    book.publish(name, Hello())
    return channel.root, channel.side_key


def test_seed_example_registration_and_deregistration(
    producer: ServiceProcess, book: ChannelBook
) -> None:
    root, side_key = channel_with_hello(book, "solar-1")
    body = {
        "itemName": "My Solar Source",
        "itemType": "solar",
        "root": root,
        "sideKey": side_key,
    }
    reply = HTTP.put(f"{producer.url}/registration/SOLAR9SOURCE9001", json=body)
    assert reply.status_code == 200
    assert reply.json() == {"success": True, "message": "OK"}
    sources = HTTP.get(f"{producer.url}/sources").json()["sources"]
    mine = next(s for s in sources if s["registrationId"] == "SOLAR9SOURCE9001")
    assert mine["itemName"] == "My Solar Source" and mine["following"]
    assert mine["root"] == root

    # Registering again with the same key is an update (same answer).
    again = HTTP.put(f"{producer.url}/registration/SOLAR9SOURCE9001", json=body)
    assert again.json() == {"success": True, "message": "OK"}

    # Another's key cannot overwrite or delete it.
    forged = {**body, "sideKey": "B" * 81}
    refused = HTTP.put(f"{producer.url}/registration/SOLAR9SOURCE9001", json=forged)
    assert refused.status_code == 403
    assert refused.json() == {
        "success": False,
        "message": "Registration 'SOLAR9SOURCE9001' sideKey failure.",
    }
    wrong = HTTP.delete(f"{producer.url}/registration/SOLAR9SOURCE9001/{'B' * 81}")
    assert wrong.status_code == 403 and wrong.json()["success"] is False

    gone = HTTP.delete(f"{producer.url}/registration/SOLAR9SOURCE9001/{side_key}")
    assert gone.status_code == 200
    assert gone.json() == {"success": True, "message": "OK"}
    sources = HTTP.get(f"{producer.url}/sources").json()["sources"]
    assert all(s["registrationId"] != "SOLAR9SOURCE9001" for s in sources)
    missing = HTTP.delete(f"{producer.url}/registration/SOLAR9SOURCE9001/{side_key}")
    assert missing.status_code == 404
    assert missing.json() == {
        "success": False,
        "message": "Registration 'SOLAR9SOURCE9001' does not exist.",
    }


def test_registration_without_a_channel_and_its_deregistration(producer: ServiceProcess) -> None:
    reply = HTTP.put(
        f"{producer.url}/registration/biomass-0001",
        json={"itemName": "Biomass", "itemType": "biomass"},
    )
    assert reply.status_code == 200 and reply.json() == {"success": True, "message": "OK"}
    gone = HTTP.delete(f"{producer.url}/registration/biomass-0001")
    assert gone.status_code == 200 and gone.json() == {"success": True, "message": "OK"}


def test_a_keyed_registration_needs_its_key_to_leave(
    producer: ServiceProcess, book: ChannelBook
) -> None:
    root, side_key = channel_with_hello(book, "wind-1")
    body = {"itemName": "Wind", "itemType": "wind", "root": root, "sideKey": side_key}
    assert HTTP.put(f"{producer.url}/registration/WIND9SOURCE01", json=body).status_code == 200
    refused = HTTP.delete(f"{producer.url}/registration/WIND9SOURCE01")
    assert refused.status_code == 403
    assert "sideKey" in refused.json()["message"]
    assert HTTP.delete(f"{producer.url}/registration/WIND9SOURCE01/{side_key}").status_code == 200


def test_a_channel_without_hello_is_refused_saying_why(
    producer: ServiceProcess, book: ChannelBook
) -> None:
    empty = book.ensure("never-said-hello")
    reply = HTTP.put(
        f"{producer.url}/registration/NOHELLO9001",
        json={"itemName": "x", "itemType": "solar", "root": empty.root, "sideKey": empty.side_key},
    )
    assert reply.status_code == 409
    body = reply.json()
    assert body["success"] is False and "hello" in body["message"]

    wrong_first = book.ensure("output-first")
    book.publish("output-first", Output(1000, 2000, 1.0))
    reply = HTTP.put(
        f"{producer.url}/registration/NOHELLO9002",
        json={
            "itemName": "x",
            "itemType": "solar",
            "root": wrong_first.root,
            "sideKey": wrong_first.side_key,
        },
    )
    assert reply.status_code == 400 and "hello" in reply.json()["message"]
    sources = HTTP.get(f"{producer.url}/sources").json()["sources"]
    assert all(not s["registrationId"].startswith("NOHELLO") for s in sources)


@pytest.mark.parametrize(
    ("path", "body", "status", "needle"),
    [
        ("/registration/short", {"itemName": "a", "itemType": "b"}, 400, "registrationId"),
        ("/registration/%20%20%20abcdefg%20", {"itemName": "a", "itemType": "b"}, 400, "8"),
        ("/registration/LONGENOUGH1", {"itemType": "b"}, 422, "itemName"),
        ("/registration/LONGENOUGH1", {"itemName": "a"}, 422, "itemType"),
        (
            "/registration/LONGENOUGH1",
            {"itemName": "a", "itemType": "b", "root": "abc"},
            422,
            "root",
        ),
        (
            "/registration/LONGENOUGH1",
            {"itemName": "a", "itemType": "b", "root": "A" * 81, "sideKey": "A" * 80},
            422,
            "sideKey",
        ),
        ("/registration/LONGENOUGH1", [1, 2], 422, "body"),
    ],
)
def test_bad_registrations_get_a_4xx_naming_the_problem(
    producer: ServiceProcess, path: str, body: Any, status: int, needle: str
) -> None:
    reply = HTTP.put(producer.url + path, json=body)
    assert reply.status_code == status, reply.text
    answer = reply.json()
    assert answer["success"] is False
    assert needle in answer["message"], answer
    assert HTTP.get(producer.url + "/health").status_code == 200


def test_errors_outside_the_routes_keep_the_seed_body(producer: ServiceProcess) -> None:
    unknown = HTTP.get(producer.url + "/no/such/route")
    assert unknown.status_code == 404 and unknown.json()["success"] is False
    not_json = HTTP.put(
        producer.url + "/registration/LONGENOUGH1",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert not_json.status_code == 422 and not_json.json()["success"] is False
    big = HTTP.put(
        producer.url + "/registration/LONGENOUGH1",
        json={"itemName": "x" * 10_000, "itemType": "solar"},
    )
    assert big.status_code == 413 and big.json()["success"] is False
    bad_key = HTTP.delete(producer.url + "/registration/LONGENOUGH1/not-trytes")
    assert bad_key.status_code == 400 and "sideKey" in bad_key.json()["message"]


def test_index_and_health(producer: ServiceProcess) -> None:
    index = HTTP.get(producer.url + "/").json()
    assert index["name"] == "producer" and index["status"] == "running"
    assert "balance" in index
    health = HTTP.get(producer.url + "/health")
    assert health.status_code == 200 and health.json()["down"] == {}
    channel = HTTP.get(producer.url + "/channel").json()
    assert len(channel["root"]) == 81 and "sideKey" not in channel


def not_a_server_error(ctx: Any, response: Any, case: Any) -> bool | None:
    # 503 is what the registration says while the node cannot be reached; not here.
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text}"
    if response.status_code >= 400:
        body = response.json()
        assert body["success"] is False and body["message"], body
    return None


def test_schemathesis_finds_no_server_error(producer: ServiceProcess) -> None:
    schema = schemathesis.openapi.from_url(f"{producer.url}/openapi.json")

    @fuzz_settings(120)
    @given(case=schema.as_strategy())
    def positive(case: Any) -> None:
        case.call_and_validate(checks=[not_a_server_error, response_schema_conformance], timeout=30)

    @fuzz_settings(120)
    @given(case=schema.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE))
    def negative(case: Any) -> None:
        case.call_and_validate(checks=[not_a_server_error], timeout=30)

    positive()
    negative()
    assert HTTP.get(producer.url + "/health").status_code == 200
