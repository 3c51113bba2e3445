"""The websocket protocol of the original (seed 002, reference/tmtm.md section 2).

Requests are ``create-ledger`` and ``issue-transaction``; the server answers with
``progress`` messages and either a final ``progress`` with ``done`` or a
``problem_report``. Validation follows the original's rules and wording ("Missing [x]
attribute in request", "Transaction: missing [x] attribute", ...) but stops at the first
problem and never crashes on odd input.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import uuid
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CREATE_LEDGER",
    "ISSUE_TRANSACTION",
    "PROBLEM_REPORT",
    "PROGRESS",
    "REQUEST_ERROR",
    "REQUEST_PROCESSING_ERROR",
    "BadRequest",
    "CreateLedger",
    "IssueTransaction",
    "idempotency_digest",
    "parse_request",
    "problem_report",
    "progress",
    "validate_txn",
]

_BASE = "https://github.com/Sirius-social/TMTM/tree/master/transactions/1.0/"
CREATE_LEDGER = _BASE + "create-ledger"
ISSUE_TRANSACTION = _BASE + "issue-transaction"
PROGRESS = _BASE + "progress"
PROBLEM_REPORT = _BASE + "problem_report"

REQUEST_ERROR = "request_error"
REQUEST_PROCESSING_ERROR = "request_processing_error"

#: The fields every transaction needs, in the original's order.
TXN_FIELDS = (
    "@type",
    "@id",
    "no",
    "date",
    "cargo",
    "departure_station",
    "arrival_station",
    "doc_type",
    "ledger",
)
MAX_NAME = 128
MAX_DEPTH = 32
#: The optional field of an issue-transaction that makes a retry safe (docs/ledger.md).
IDEMPOTENCY_KEY = "idempotency_key"
_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")
#: What a retry may change without being "a different transaction".
_NOT_THE_BODY = ("@id", "time_to_live", "msg~sig")


class BadRequest(ValueError):
    """A request the server refuses (problem-code request_error); the text names the field."""


@dataclass(frozen=True)
class CreateLedger:
    id: str
    name: str
    genesis: list[dict[str, Any]]
    time_to_live: float


@dataclass(frozen=True)
class IssueTransaction:
    id: str
    ledger: str
    txn: dict[str, Any]
    time_to_live: float
    idempotency_key: str | None = None


def idempotency_digest(txn: dict[str, Any]) -> str:
    """SHA-256 of the transaction as the key covers it: everything but ``@id``,
    ``time_to_live`` and ``msg~sig`` (a retry may carry a new message id)."""
    body = {k: v for k, v in txn.items() if k not in _NOT_THE_BODY}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def progress(
    value: float | None,
    message: str | None,
    *,
    thread: str | None = None,
) -> dict[str, Any]:
    msg: dict[str, Any] = {"@type": PROGRESS, "@id": uuid.uuid4().hex}
    if value is not None:
        msg["progress"] = value
    if message is not None:
        msg["message"] = message
    if thread:
        msg["~thread"] = {"thid": thread}
    return msg


def done(
    name: str,
    ledger_id: int,
    *,
    thread: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "@type": PROGRESS,
        "@id": uuid.uuid4().hex,
        "ledger": {"name": name, "id": ledger_id},
        "done": True,
        **(extra or {}),
    }
    if thread:
        msg["~thread"] = {"thid": thread}
    return msg


def problem_report(code: str, explain: str, *, thread: str | None = None) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "@type": PROBLEM_REPORT,
        "@id": uuid.uuid4().hex,
        "problem-code": code,
        "explain": explain,
    }
    if thread:
        msg["~thread"] = {"thid": thread}
    return msg


def _no_constants(name: str) -> float:
    raise BadRequest(f"Invalid JSON: {name} is not a JSON number")


def _check_value(value: Any, depth: int = 0) -> None:
    """Refuse what JSON text can carry but a database cannot store safely."""
    if depth > MAX_DEPTH:
        raise BadRequest(f"Request nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        _check_text(value)
    elif isinstance(value, float):
        if not math.isfinite(value):  # pragma: no cover - parse_constant refuses them
            raise BadRequest("Invalid JSON: numbers must be finite")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_value(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_value(item, depth + 1)


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise BadRequest("Invalid text: strings may not contain NUL (\\u0000)")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest("Invalid text: strings must be valid Unicode (lone surrogate)") from None


def decode(frame: str | bytes) -> Any:
    """One websocket frame as JSON; BadRequest (never another exception) otherwise."""
    try:
        text = frame.decode("utf-8") if isinstance(frame, bytes) else frame
        value = json.loads(text, parse_constant=_no_constants)
    except BadRequest:
        raise
    except UnicodeDecodeError:
        raise BadRequest("Invalid JSON: the message is not UTF-8") from None
    except RecursionError:
        raise BadRequest(f"Request nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as error:
        raise BadRequest(f"Invalid JSON: {error}") from None
    _check_value(value)
    return value


def _empty(value: Any) -> bool:
    # The original's test is "not value": None, "", 0, [], {} and False are all empty.
    return not value


def _ttl(payload: dict[str, Any], default: float, maximum: float) -> float:
    if "time_to_live" not in payload:
        return default
    ttl = payload["time_to_live"]
    if isinstance(ttl, bool) or not isinstance(ttl, int | float):
        raise BadRequest("[time_to_live] attribute must be a number of seconds")
    if not 0 < ttl <= maximum:
        raise BadRequest(f"[time_to_live] attribute must be > 0 and <= {maximum:g}")
    return float(ttl)


def _id(payload: dict[str, Any]) -> str:
    value = payload["@id"]
    if not isinstance(value, str | int) or isinstance(value, bool) or len(str(value)) > 256:
        raise BadRequest("[@id] attribute must be a string of at most 256 characters")
    return str(value)


def validate_txn(txn: Any) -> str:
    """Check one transaction document; returns its ledger name. BadRequest names the field."""
    if not isinstance(txn, dict):
        raise BadRequest("Transaction: must be a JSON object")
    for attr in TXN_FIELDS:
        if attr not in txn:
            raise BadRequest(f"Transaction: missing [{attr}] attribute")
        if _empty(txn[attr]):
            raise BadRequest(f"Transaction: [{attr}] attribute is empty")
    ledger = txn["ledger"]
    name = ledger.get("name") if isinstance(ledger, dict) else None
    if not name:
        raise BadRequest("Transaction: ledger.name is empty")
    if not isinstance(name, str) or len(name) > MAX_NAME:
        raise BadRequest(f"Transaction: ledger.name must be a string of at most {MAX_NAME}")
    if IDEMPOTENCY_KEY in txn:
        key = txn[IDEMPOTENCY_KEY]
        if not isinstance(key, str) or not _KEY.match(key):
            raise BadRequest(
                f"Transaction: [{IDEMPOTENCY_KEY}] attribute must be 1 to 128 printable "
                "ASCII characters without spaces"
            )
    waybill = txn.get("waybill")
    if waybill and (
        not isinstance(waybill, dict) or not (waybill.get("no") or waybill.get("wagon_no"))
    ):
        raise BadRequest("Transaction: you should fill [waybill] attributes")
    attachments = txn.get("~attach", [])
    if not isinstance(attachments, list):
        raise BadRequest("Transaction: [~attach] attribute must be a list")
    for attach in attachments:
        if not isinstance(attach, dict):
            raise BadRequest("Transaction attachment: must be a JSON object")
        for fld in ("mime_type", "@id", "filename", "data"):
            if not attach.get(fld):
                raise BadRequest(f"Transaction attachment: missing [{fld}] attribute")
        data = attach["data"]
        inner = data.get("json") if isinstance(data, dict) else None
        if not isinstance(inner, dict) or not (inner.get("url") and inner.get("md5")):
            raise BadRequest("Transaction attachment: [url] and [md5] should be set")
    return name


def parse_request(
    payload: Any, *, default_ttl: float, max_ttl: float, max_batch: int
) -> CreateLedger | IssueTransaction:
    """A decoded websocket message as a request; BadRequest names what is wrong."""
    if not isinstance(payload, dict):
        raise BadRequest("Request must be a JSON object")
    if "@type" not in payload:
        raise BadRequest("Missing @type attribute in request")
    kind = payload["@type"]
    if kind == CREATE_LEDGER:
        for attr in ("name", "@id", "time_to_live", "genesis"):
            if attr not in payload:
                raise BadRequest(f"Missing [{attr}] attribute in request")
            if _empty(payload[attr]):
                raise BadRequest(f"[{attr}] attribute is empty")
        name = payload["name"]
        if not isinstance(name, str) or len(name) > MAX_NAME:
            raise BadRequest(f"[name] attribute must be a string of at most {MAX_NAME}")
        genesis = payload["genesis"]
        if not isinstance(genesis, list):
            raise BadRequest("[genesis] attribute must be a list of transactions")
        if len(genesis) > max_batch:
            raise BadRequest(f"[genesis] attribute has more than {max_batch} transactions")
        for txn in genesis:
            validate_txn(txn)
        return CreateLedger(
            id=_id(payload),
            name=name,
            genesis=[_without_ttl(txn) for txn in genesis],
            time_to_live=_ttl(payload, default_ttl, max_ttl),
        )
    if kind == ISSUE_TRANSACTION:
        ledger = validate_txn(payload)
        return IssueTransaction(
            id=_id(payload),
            ledger=ledger,
            txn=_without_ttl(payload),
            time_to_live=_ttl(payload, default_ttl, max_ttl),
            idempotency_key=payload.get(IDEMPOTENCY_KEY),
        )
    shown = kind if isinstance(kind, str) else json.dumps(kind)
    raise BadRequest(f'Unexpected @type = "{shown[:200]}"')


def _without_ttl(txn: dict[str, Any]) -> dict[str, Any]:
    # As the original: time_to_live is popped and a client's own signature replaced.
    return {k: v for k, v in txn.items() if k not in ("time_to_live", "msg~sig")}
