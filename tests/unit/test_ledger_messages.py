"""The websocket protocol's validation: the original's rules and wording, never a crash."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.ledger import messages
from services.ledger.messages import BadRequest, CreateLedger, IssueTransaction, parse_request

BASE = "https://github.com/Sirius-social/TMTM/tree/master/transactions/1.0/"


def txn(**extra: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "@type": BASE + "issue-transaction",
        "@id": "t1",
        "no": "1",
        "date": "2026-11-29",
        "cargo": "coal",
        "departure_station": "Aktau",
        "arrival_station": "Baku",
        "doc_type": "WayBill",
        "ledger": {"name": "L"},
    }
    value.update(extra)
    return value


def parse(payload: Any) -> CreateLedger | IssueTransaction:
    return parse_request(payload, default_ttl=30, max_ttl=300, max_batch=10)


def explain(payload: Any) -> str:
    with pytest.raises(BadRequest) as info:
        parse(payload)
    return str(info.value)


def test_uris_are_the_originals() -> None:
    assert messages.CREATE_LEDGER == BASE + "create-ledger"
    assert messages.ISSUE_TRANSACTION == BASE + "issue-transaction"
    assert messages.PROGRESS == BASE + "progress"
    assert messages.PROBLEM_REPORT == BASE + "problem_report"


def test_issue_transaction() -> None:
    request = parse(txn(time_to_live=5, **{"msg~sig": {"forged": 1}}))
    assert isinstance(request, IssueTransaction)
    assert request.ledger == "L" and request.time_to_live == 5 and request.id == "t1"
    # time_to_live is popped and a client's msg~sig dropped, as the original does.
    assert "time_to_live" not in request.txn and "msg~sig" not in request.txn
    assert parse(txn()).time_to_live == 30


def test_create_ledger() -> None:
    request = parse(
        {
            "@type": BASE + "create-ledger",
            "@id": "c",
            "name": "L",
            "genesis": [txn()],
            "time_to_live": 20,
        }
    )
    assert isinstance(request, CreateLedger)
    assert request.name == "L" and len(request.genesis) == 1 and request.time_to_live == 20


@pytest.mark.parametrize(
    ("payload", "text"),
    [
        ([], "Request must be a JSON object"),
        ({}, "Missing @type attribute in request"),
        ({"@type": "x"}, 'Unexpected @type = "x"'),
        ({"@type": BASE + "create-ledger"}, "Missing [name] attribute in request"),
        ({"@type": BASE + "create-ledger", "name": "", "@id": 1}, "[name] attribute is empty"),
        (
            {"@type": BASE + "create-ledger", "name": "L", "@id": "c", "time_to_live": 5},
            "Missing [genesis] attribute in request",
        ),
        (
            {
                "@type": BASE + "create-ledger",
                "name": "L",
                "@id": "c",
                "time_to_live": 5,
                "genesis": [{"no": 1}],
            },
            "Transaction: missing [@type] attribute",
        ),
        (
            {
                "@type": BASE + "create-ledger",
                "name": "L",
                "@id": "c",
                "time_to_live": 5,
                "genesis": {"a": 1},
            },
            "[genesis] attribute must be a list of transactions",
        ),
        (
            {
                "@type": BASE + "create-ledger",
                "name": "L",
                "@id": "c",
                "time_to_live": 5,
                "genesis": [txn()] * 11,
            },
            "[genesis] attribute has more than 10 transactions",
        ),
        (txn(cargo=""), "Transaction: [cargo] attribute is empty"),
        ({k: v for k, v in txn().items() if k != "doc_type"}, "Transaction: missing [doc_type]"),
        (txn(ledger={"x": 1}), "Transaction: ledger.name is empty"),
        (txn(ledger="L"), "Transaction: ledger.name is empty"),
        (txn(ledger={"name": ["a", "b"]}), "ledger.name must be a string"),
        (txn(waybill={"x": 1}), "Transaction: you should fill [waybill] attributes"),
        (txn(**{"~attach": [{"@id": "a"}]}), "Transaction attachment: missing [mime_type]"),
        (
            txn(
                **{
                    "~attach": [
                        {
                            "@id": "a",
                            "mime_type": "m",
                            "filename": "f",
                            "data": {"json": {"url": "u"}},
                        }
                    ]
                }
            ),
            "Transaction attachment: [url] and [md5] should be set",
        ),
        (txn(**{"~attach": "no"}), "[~attach] attribute must be a list"),
        (txn(time_to_live="soon"), "[time_to_live] attribute must be a number"),
        (txn(time_to_live=0), "[time_to_live] attribute must be > 0"),
        (txn(time_to_live=301), "<= 300"),
        (txn(**{"@id": {"a": 1}}), "[@id] attribute must be a string"),
    ],
)
def test_refusals_name_the_field(payload: Any, text: str) -> None:
    assert text in explain(payload)


def test_valid_attachment_and_waybill() -> None:
    attach = {
        "@id": "a",
        "mime_type": "application/pdf",
        "filename": "f.pdf",
        "data": {"json": {"url": "https://x/y", "md5": "d41d8cd98f00b204e9800998ecf8427e"}},
    }
    request = parse(txn(waybill={"wagon_no": "42"}, **{"~attach": [attach]}))
    assert isinstance(request, IssueTransaction)


@pytest.mark.parametrize(
    ("frame", "text"),
    [
        ("{", "Invalid JSON"),
        (b"\xff\xfe", "not UTF-8"),
        ('{"a": NaN}', "NaN is not a JSON number"),
        ('{"a": "\\ud800"}', "lone surrogate"),
        ('{"a": "\\u0000"}', "NUL"),
        ("[" * 50 + "]" * 50, "nested deeper"),
        ("[" * 100000, "nested deeper"),
    ],
)
def test_decode_refuses_bad_frames(frame: str | bytes, text: str) -> None:
    with pytest.raises(BadRequest) as info:
        messages.decode(frame)
    assert text in str(info.value)


def test_builders() -> None:
    done = messages.done("L", 3, thread="t")
    assert done["ledger"] == {"name": "L", "id": 3} and done["done"] is True
    assert done["@type"] == messages.PROGRESS and len(done["@id"]) == 32
    report = messages.problem_report(messages.REQUEST_ERROR, "why")
    assert report["problem-code"] == "request_error" and report["explain"] == "why"
    assert "progress" not in messages.progress(None, "m")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    payload=st.one_of(
        json_values,
        st.fixed_dictionaries(
            {"@type": st.sampled_from([BASE + "create-ledger", BASE + "issue-transaction"])},
            optional={
                k: json_values
                for k in [
                    "@id",
                    "name",
                    "genesis",
                    "time_to_live",
                    "no",
                    "date",
                    "cargo",
                    "ledger",
                    "~attach",
                    "waybill",
                ]
            },
        ),
    )
)
def test_anything_is_a_request_or_a_bad_request(payload: Any) -> None:
    try:
        parse(messages.decode(json.dumps(payload)))
    except BadRequest as error:
        assert str(error)


def test_idempotency_key() -> None:
    request = parse(txn(idempotency_key="grid:slice:1:9f2c"))
    assert isinstance(request, IssueTransaction)
    assert request.idempotency_key == "grid:slice:1:9f2c"
    assert request.txn["idempotency_key"] == "grid:slice:1:9f2c"  # kept in the document
    plain = parse(txn())
    assert isinstance(plain, IssueTransaction) and plain.idempotency_key is None
    for bad in ("", "has space", "x" * 129, 7, None, "é"):
        assert "[idempotency_key] attribute must be 1 to 128 printable" in explain(
            txn(idempotency_key=bad)
        )
    # a retry may carry a new @id and time_to_live: the same body; another cargo is not
    digest = messages.idempotency_digest
    assert digest(txn(idempotency_key="k")) == digest({**txn(idempotency_key="k"), "@id": "2"})
    assert digest(txn(idempotency_key="k")) != digest(txn(idempotency_key="k", cargo="gold"))
