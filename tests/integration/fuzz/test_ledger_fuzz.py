"""Fuzz the ledger: its websocket with malformed and mutated frames (hypothesis) and its
REST API with schemathesis, on three real participant processes.

Checked on every reply: JSON in the protocol's shapes (progress / problem_report, never a
traceback), the socket closed after each request, no 5xx on REST, 401 without credentials.
After each run: every participant still answers, and every ledger is identical on all
three (no partial commit), with exactly the transactions whose requests ended ``done``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import given
from hypothesis import strategies as st

from tests.integration.fuzz.conftest import fuzz_settings
from tests.integration.fuzz.openapi_checks import ALL_CHECKS
from tests.integration.ledger.conftest import NAMES, audit
from tests.support.ledger import PASSWORD, USER, LedgerCluster, create_message, issue_message

pytestmark = pytest.mark.integration

TYPES = "https://github.com/Sirius-social/TMTM/tree/master/transactions/1.0/"
AUTH = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LedgerCluster]:
    tmp: Path = tmp_path_factory.mktemp("fuzz-ledger")
    with LedgerCluster(tmp, NAMES, env={"LEDGER_MAX_MESSAGE_BYTES": "65536"}) as started:
        assert started.request("a", create_message("fuzz"))[-1]["done"] is True
        yield started


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
FIELDS = [
    "@type",
    "@id",
    "no",
    "date",
    "cargo",
    "departure_station",
    "arrival_station",
    "doc_type",
    "ledger",
    "~attach",
    "waybill",
    "time_to_live",
    "name",
    "genesis",
]


@st.composite
def mutated(draw: st.DrawFn) -> str | bytes:
    """Mostly near-valid requests with a few fields replaced or removed; some raw junk."""
    kind = draw(st.sampled_from(["issue", "create", "json", "text", "bytes"]))
    if kind == "text":
        return draw(st.text(max_size=200))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "json":
        return json.dumps(draw(json_values))
    base: dict[str, Any] = (
        issue_message("fuzz", draw(st.text(min_size=1, max_size=10)))
        if kind == "issue"
        else create_message(draw(st.text(min_size=1, max_size=12)), genesis=1, ttl=10)
    )
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=3, unique=True)):
        if draw(st.booleans()):
            base.pop(name, None)
        else:
            base[name] = draw(json_values)
    text = json.dumps(base)
    if draw(st.integers(0, 9)) == 0:  # a truncated frame now and then
        text = text[: draw(st.integers(0, len(text)))]
    return text


def check_replies(replies: list[dict[str, Any]]) -> dict[str, Any]:
    assert replies, "no answer at all"
    for reply in replies[:-1]:
        assert reply["@type"] == TYPES + "progress" and "done" not in reply, reply
    final = replies[-1]
    if final["@type"] == TYPES + "problem_report":
        assert final["problem-code"] in ("request_error", "request_processing_error"), final
        assert isinstance(final["explain"], str) and final["explain"], final
    else:
        assert final["@type"] == TYPES + "progress" and final["done"] is True, final
    assert "Traceback" not in json.dumps(replies)
    return final


def assert_consistent(cluster: LedgerCluster) -> dict[str, int]:
    """Every ledger identical on all participants; their sizes."""
    for name in NAMES:
        assert httpx.get(cluster.url(name) + "/health", timeout=10).json()["status"] == "ok"
    names = {
        n: sorted(item["name"] for item in cluster.get(n, "/ledgers/").json()["results"])
        for n in NAMES
    }
    assert names["a"] == names["b"] == names["c"], names
    return {ledger: audit(cluster, ledger)["size"] for ledger in names["a"]}


def test_websocket_frames(cluster: LedgerCluster) -> None:
    before = assert_consistent(cluster)
    done_issues: list[str] = []
    token = cluster.token("b")
    state = {"token": token}

    @fuzz_settings(120)
    @given(frame=mutated())
    def run(frame: str | bytes) -> None:
        try:
            replies = cluster.request("b", frame, state["token"], timeout=30)
        except Exception as error:  # the token may expire during a long run
            if "403" not in str(error):
                raise
            state["token"] = cluster.token("b")
            replies = cluster.request("b", frame, state["token"], timeout=30)
        assert replies, f"no answer to {frame!r}"
        final = check_replies(replies)
        if (
            final.get("done")
            and final["ledger"]["name"] == "fuzz"
            and "Start committing" in (replies[0].get("message") or "")
        ):
            done_issues.append(final["~thread"]["thid"])

    run()
    after = assert_consistent(cluster)
    assert after["fuzz"] == before["fuzz"] + len(done_issues)


def test_oversized_and_binary_frames(cluster: LedgerCluster) -> None:
    huge = json.dumps(issue_message("fuzz", "big", cargo="x" * 70_000))
    replies = cluster.request("a", huge)
    # Over LEDGER_MAX_MESSAGE_BYTES: the server closes (1009) without committing anything.
    assert all(r.get("done") is not True for r in replies)
    binary = json.dumps(issue_message("fuzz", "as-bytes")).encode()
    assert cluster.request("a", binary)[-1]["done"] is True
    assert_consistent(cluster)


def load_schema(cluster: LedgerCluster) -> Any:
    return schemathesis.openapi.from_url(cluster.url("a") + "/openapi.json")


def not_a_server_error(ctx: Any, response: Any, case: Any) -> bool | None:
    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:300])
    assert "Traceback" not in response.text
    return None


def clear_error(ctx: Any, response: Any, case: Any) -> bool | None:
    if 400 <= response.status_code < 500:
        body = response.json()
        assert isinstance(body, dict) and body.get("detail"), (response.status_code, body)
    return None


def test_schemathesis_positive(cluster: LedgerCluster) -> None:
    before = assert_consistent(cluster)
    schema = load_schema(cluster)

    @fuzz_settings(120)
    @given(case=schema.as_strategy())
    def run(case: Any) -> None:
        case.call_and_validate(
            headers={"Authorization": AUTH},
            checks=[*ALL_CHECKS, not_a_server_error, clear_error],  # --checks all
            timeout=20,
        )

    run()
    assert assert_consistent(cluster) == before


def test_schemathesis_negative(cluster: LedgerCluster) -> None:
    schema = load_schema(cluster)

    @fuzz_settings(120)
    @given(case=schema.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE))
    def run(case: Any) -> None:
        case.call_and_validate(
            headers={"Authorization": AUTH},
            checks=[*ALL_CHECKS, not_a_server_error, clear_error],  # --checks all
            timeout=20,
        )

    run()
    assert_consistent(cluster)


def test_auth_required(cluster: LedgerCluster) -> None:
    schema = load_schema(cluster)
    operations = [result.ok() for result in schema.get_all_operations()]
    protected = [op for op in operations if op.path not in ("/", "/health")]
    assert len(protected) >= 8
    for operation in protected:

        @fuzz_settings(4)
        @given(
            case=operation.as_strategy(),
            credentials=st.sampled_from(
                [None, "", "Basic", "Basic !!!", "Basic " + base64.b64encode(b"x:y").decode()]
            ),
        )
        def run(case: Any, credentials: str | None) -> None:
            headers = {} if credentials is None else {"Authorization": credentials}
            response = case.call(headers=headers, timeout=20)
            assert response.status_code == 401, (case.formatted_path, response.status_code)

        run()


def test_participant_api_refuses_strangers(cluster: LedgerCluster) -> None:
    for action in ("propose", "commit", "post-commit", "abort", "status", "ping"):
        response = httpx.post(cluster.url("a") + f"/participant/{action}", json={}, timeout=10)
        assert response.status_code == 401
        forged = httpx.post(
            cluster.url("a") + f"/participant/{action}",
            json={"round": "0" * 32},
            headers={
                "X-Ledger-Participant": "b",
                "X-Ledger-Timestamp": "1",
                "X-Ledger-Signature": base64.b64encode(b"x" * 64).decode(),
            },
            timeout=10,
        )
        assert forged.status_code == 401
