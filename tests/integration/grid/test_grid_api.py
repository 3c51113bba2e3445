"""Every route of the grid's API with the seed's example bodies, the documented variants
and the error cases; a real devnet behind it (the registrant's ``hello`` is checked on
the tangle), the app in-process without its background loops."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.grid.app import create_app
from services.grid.settings import MAX_ITEM_BYTES, GridSettings
from shared.energy.messages import Goodbye, Hello
from tests.integration.grid.conftest import patient_devnet
from tests.integration.grid.parties import Party
from tests.support.devnet import DevnetProcess, random_seed

pytestmark = pytest.mark.integration

OK = {"success": True, "message": "OK"}
SEED_ITEM = {"myCustomData": "Some data"}
PRODUCER = "PRODUCER9ABC123"


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevnetProcess]:
    with patient_devnet(tmp_path_factory.mktemp("devnet")) as process:
        yield process


@pytest.fixture
def client(devnet: DevnetProcess, tmp_path: Path) -> Iterator[TestClient]:
    settings = GridSettings.model_validate(
        {
            "seed": random_seed(),
            "data_dir": tmp_path / "grid",
            "iota_node_url": devnet.api_url,
            "iota_zmq_url": devnet.zmq_url,
            "min_weight_magnitude": devnet.mwm,
            "storage_max_items": 60,
        }
    )
    with TestClient(create_app(settings, background=False)) as test_client:
        yield test_client


@pytest.fixture
def producer(client: TestClient) -> str:
    """A registration without a channel (the seed makes root optional)."""
    answer = client.put(
        f"/registration/{PRODUCER}", json={"itemName": "My Solar Source", "itemType": "producer"}
    )
    assert answer.status_code == 200 and answer.json() == OK
    return PRODUCER


def refused(response: object, status: int, *words: str) -> None:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["success"] is False and isinstance(body["message"], str)
    for word in words:
        assert word in body["message"], body


# -- registration ----------------------------------------------------------------------


def test_register_with_a_channel_and_deregister_with_its_side_key(
    client: TestClient, devnet: DevnetProcess, tmp_path: Path
) -> None:
    party = Party(devnet, tmp_path, "JAKE9CONSUMER")
    try:
        party.publish(Hello())
        body = {
            "itemName": "Jake",
            "itemType": "consumer",
            "root": party.channel.root,
            "sideKey": party.channel.side_key,
        }
        answer = client.put("/registration/JAKE9CONSUMER", json=body)
        assert answer.status_code == 200, answer.text
        reply = answer.json()
        assert list(reply) == ["success", "message", "root", "sideKey"]
        assert reply["success"] is True and reply["message"] == "OK"
        party.return_root, party.return_key = reply["root"], reply["sideKey"]
        assert party.return_messages() == [Hello()]
        # the registrations list shows roots, never a side key
        listed = client.get("/registrations").json()
        assert listed[0]["root"] == party.channel.root
        assert listed[0]["returnRoot"] == reply["root"]
        assert party.channel.side_key not in str(listed)
        # someone without the side key cannot take the registration over
        refused(client.put("/registration/JAKE9CONSUMER", json={**body, "sideKey": "B" * 81}), 403)
        refused(client.delete("/registration/JAKE9CONSUMER"), 403, "sideKey")
        refused(client.delete(f"/registration/JAKE9CONSUMER/{'B' * 81}"), 403, "sideKey")
        refused(client.delete("/registration/JAKE9CONSUMER/NOTTRYTES"), 400, "sideKey")
        assert client.delete(f"/registration/JAKE9CONSUMER/{party.channel.side_key}").json() == OK
        # the grid says goodbye on the return channel; the registration is gone
        assert party.return_messages() == [Hello(), Goodbye()]
        refused(client.delete(f"/registration/JAKE9CONSUMER/{party.channel.side_key}"), 404)
    finally:
        party.close()


def test_registration_refused_without_hello(
    client: TestClient, devnet: DevnetProcess, tmp_path: Path
) -> None:
    party = Party(devnet, tmp_path, "SILENT9PRODUCER")
    try:
        body = {
            "itemName": "quiet",
            "itemType": "producer",
            "root": party.channel.root,
            "sideKey": party.channel.side_key,
        }
        refused(client.put("/registration/SILENT9PRODUCER", json=body), 409, "'hello'")
        assert client.get("/registrations").json() == []
    finally:
        party.close()


def test_registration_variants(client: TestClient) -> None:
    # a consumer without a channel of its own still gets the grid's return channel
    first = client.put(
        "/registration/CONSUMER9NOROOT", json={"itemName": "Jake", "itemType": "consumer"}
    )
    assert first.status_code == 200
    again = client.put(
        "/registration/CONSUMER9NOROOT", json={"itemName": "J", "itemType": "consumer"}
    )
    assert again.json() == first.json()
    assert len(first.json()["root"]) == 81 and len(first.json()["sideKey"]) == 81
    # extra fields are ignored; an id is trimmed; deregistration without a side key
    extra = {"itemName": "x", "itemType": "producer", "extendedProperties": {"a": 1}}
    assert client.put("/registration/%20PRODUCER9TRIM%20", json=extra).json() == OK
    assert client.delete("/registration/PRODUCER9TRIM").json() == OK
    refused(client.delete("/registration/PRODUCER9TRIM"), 404, "does not exist")


@pytest.mark.parametrize(
    ("path", "body", "status", "word"),
    [
        # the seed's own example body: its placeholders are not 81 trytes
        (
            "/registration/ABC12345",
            {
                "itemName": "My Solar Source",
                "itemType": "solar",
                "root": "CCCCCC...DDDDDD",
                "sideKey": "AAA....ZZZZZZ",
            },
            422,
            "root",
        ),
        ("/registration/ABC12345", {"itemName": "x", "itemType": "solar"}, 400, "itemType"),
        ("/registration/ABC1234", {"itemName": "x", "itemType": "producer"}, 400, "registrationId"),
        ("/registration/%20%20ABC1234", {"itemName": "x", "itemType": "producer"}, 400, "8"),
        ("/registration/ABC12345", {"itemType": "producer"}, 422, "itemName"),
        ("/registration/ABC12345", {"itemName": "", "itemType": "producer"}, 422, "itemName"),
        ("/registration/ABC12345", {"itemName": 5, "itemType": "producer"}, 422, "itemName"),
        (
            "/registration/ABC12345",
            {"itemName": "x", "itemType": "producer", "sideKey": "A" * 81},
            400,
            "root",
        ),
        ("/registration/ABC12345", [1, 2], 422, ""),
        ("/registration/" + "A" * 300, {"itemName": "x", "itemType": "producer"}, 400, "at most"),
    ],
)
def test_registration_errors(
    client: TestClient, path: str, body: object, status: int, word: str
) -> None:
    refused(client.put(path, json=body), status, word)
    assert client.get("/registrations").json() == []


def test_not_json_and_unknown_routes(client: TestClient) -> None:
    refused(
        client.put(
            "/registration/ABC12345", content=b"{nope", headers={"content-type": "application/json"}
        ),
        422,
    )
    refused(client.get("/nowhere"), 404)
    refused(client.post("/registration/ABC12345", json={}), 405)


# -- storage ---------------------------------------------------------------------------


def test_storage_seed_examples(client: TestClient, producer: str) -> None:
    # the seed's path and the original code's path both save
    assert client.put(f"/storage/item/{producer}/sources/XXX123", json=SEED_ITEM).json() == OK
    assert client.get(f"/storage/{producer}/sources/XXX123").json() == {
        "success": True,
        "message": "OK",
        "item": SEED_ITEM,
    }
    update = {"myCustomData": "Other data", "n": [1, 2.5, None, True], "é": "ü"}
    assert client.put(f"/storage/{producer}/sources/XXX123", json=update).json() == OK
    assert client.get(f"/storage/{producer}/sources/XXX123").json()["item"] == update
    assert client.delete(f"/storage/{producer}/sources/XXX123").json() == OK
    refused(client.get(f"/storage/{producer}/sources/XXX123"), 404, "XXX123")
    refused(client.delete(f"/storage/{producer}/sources/XXX123"), 404)


def test_storage_paging_over_several_pages(client: TestClient, producer: str) -> None:
    for n in range(45):
        assert (
            client.put(f"/storage/{producer}/sources/id{n:02d}", json={"n": n}).status_code == 200
        )
    client.put(f"/storage/{producer}/other/x", json={"n": -1})
    seen: list[str] = []
    for page in range(6):
        body = client.get(f"/storage/{producer}/sources?page={page}&page-size=8").json()
        assert body["success"] is True and body["message"] == "OK"
        assert body["totalItems"] == 45 and body["pageSize"] == 8
        assert body["totalPages"] == math.ceil(45 / 8) == 6
        assert [item["n"] for item in body["items"]] == [int(i[2:]) for i in body["ids"]]
        assert len(body["ids"]) == (8 if page < 5 else 5)
        seen += body["ids"]
    assert seen == [f"id{n:02d}" for n in range(45)]
    # defaults 0 and 10; the pageSize spelling; a page past the end is empty
    default = client.get(f"/storage/{producer}/sources").json()
    assert default["ids"] == [f"id{n:02d}" for n in range(10)] and default["totalPages"] == 5
    camel = client.get(f"/storage/{producer}/sources?page=4&pageSize=10").json()
    assert camel["ids"] == [f"id{n}" for n in range(40, 45)] and camel["pageSize"] == 10
    past = client.get(f"/storage/{producer}/sources?page=9").json()
    assert past["ids"] == [] and past["items"] == [] and past["totalItems"] == 45
    refused(client.get(f"/storage/{producer}/sources?page=-1"), 422, "page")
    refused(client.get(f"/storage/{producer}/sources?page=abc"), 422, "page")
    refused(client.get(f"/storage/{producer}/sources?page-size=0"), 422, "page-size")
    refused(client.get(f"/storage/{producer}/sources?page-size=5&pageSize=6"), 400, "pageSize")
    # delete a context, then everything of the registration
    assert client.delete(f"/storage/{producer}/sources").json() == OK
    assert client.get(f"/storage/{producer}/sources").json()["totalItems"] == 0
    assert client.get(f"/storage/{producer}/other").json()["totalItems"] == 1
    assert client.delete(f"/storage/{producer}").json() == OK
    assert client.get(f"/storage/{producer}/other").json()["totalItems"] == 0


@pytest.mark.parametrize("item_id", ["a/b", "a%b", "a b", "é", "..", "?x=1", "a%2Fb"])
def test_percent_encoded_ids(client: TestClient, producer: str, item_id: str) -> None:
    from urllib.parse import quote

    encoded = quote(item_id, safe="").replace(".", "%2E")  # "..": a client drops it
    context = quote("ctx/with slash", safe="")
    assert (
        client.put(f"/storage/item/{producer}/{context}/{encoded}", json={"id": item_id}).json()
        == OK
    )
    assert client.get(f"/storage/{producer}/{context}/{encoded}").json()["item"] == {"id": item_id}
    listed = client.get(f"/storage/{producer}/{context}").json()
    assert listed["ids"] == [item_id]
    assert client.delete(f"/storage/{producer}/{context}/{encoded}").json() == OK
    assert client.get(f"/storage/{producer}/{context}").json()["totalItems"] == 0


def test_storage_errors(client: TestClient, producer: str) -> None:
    refused(client.put("/storage/item/UNKNOWN99/sources/x", json=SEED_ITEM), 404, "does not exist")
    refused(client.get("/storage/UNKNOWN99/sources/x"), 404, "does not exist")
    refused(client.get("/storage/UNKNOWN99/sources"), 404)
    refused(client.delete("/storage/UNKNOWN99"), 404)
    refused(client.get("/storage/SHORT/sources"), 400, "registration-id")
    refused(client.put(f"/storage/{producer}/sources/x", json=[1, 2]), 422)
    refused(client.put(f"/storage/{producer}/sources/x", json="text"), 422)
    refused(client.put(f"/storage/{producer}/sources/{'k' * 1025}", json={}), 400, "'id'")
    big = {"blob": "x" * MAX_ITEM_BYTES}
    refused(client.put(f"/storage/{producer}/sources/big", json=big), 413, "larger")
    # exactly at the limit is fine
    fits = {"b": "x" * (MAX_ITEM_BYTES - len('{"b":""}'))}
    assert client.put(f"/storage/{producer}/sources/fits", json=fits).status_code == 200
    # storage is bounded per registration (60 here)
    for n in range(59):
        client.put(f"/storage/{producer}/many/{n}", json={})
    refused(client.put(f"/storage/{producer}/many/last", json={}), 409, "items")
    assert client.put(f"/storage/{producer}/many/0", json={"updated": 1}).status_code == 200
    # nothing stored was harmed by the refusals
    assert client.get(f"/storage/{producer}/sources/fits").status_code == 200


def test_deregistration_removes_storage(client: TestClient, producer: str) -> None:
    client.put(f"/storage/{producer}/sources/a", json=SEED_ITEM)
    assert client.delete(f"/registration/{producer}").json() == OK
    refused(client.get(f"/storage/{producer}/sources/a"), 404, "does not exist")


# -- service routes --------------------------------------------------------------------


def test_service_routes(client: TestClient) -> None:
    assert client.get("/").json() == {"name": "grid", "status": "ok", "balance": None}
    health = client.get("/health")
    assert health.status_code == 200
    # background=False: no loops and no probes, so nothing is down
    assert health.json() == {"status": "ok", "name": "grid", "down": {}, "dependencies": {}}
    assert client.get("/accounts").json() == {
        "totals": {"received": 0, "cut": 0, "paidOut": 0, "waiting": 0, "credit": 0, "late": 0},
        "consumers": {},
        "producers": {},
        "latePayments": [],
    }
    assert client.get("/prices").json() == []
    paths = client.get("/openapi.json").json()["paths"]
    assert "/storage/item/{registrationId}/{context}/{id}" in paths
    assert "/registration/{registrationId}/{sideKey}" in paths
    assert client.get("/docs").status_code == 200
