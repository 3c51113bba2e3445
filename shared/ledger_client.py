"""Record a transaction in a ledger kept by the ledger participants (services/ledger).

A service that wants an audit trail (the grid records each settled slice) uses::

    client = LedgerClient("http://ledger-a:8100", "grid", password)
    done = await client.record("grid-slices", settled_slice_document(...))
    done.ledger_id, done.progress      # the final message's ledger id, the stages seen

It speaks the seed's protocol: a token from ``/maintenance/allocate_token/`` (BasicAuth,
kept until shortly before it expires), then one websocket ``issue-transaction`` per record,
following ``progress`` messages until the final ``done`` or a ``problem_report``. A ledger
that does not exist yet is created with the document as its genesis (``create=True``).

Every request carries an ``idempotency_key`` (the document's ``no`` unless the caller
gives one): the gateway commits a key once, and a retry with it returns the transaction
committed the first time. So a request that failed in a way that may have committed (the
connection lost mid-request, a ``request_processing_error``) is retried with the same key,
up to ``retries`` times with backoff, as is a round refused because another round held the
ledger; a ``request_error`` (a bad document, or the key used for another body) is not.

:meth:`LedgerClient.ledger_id` and :meth:`LedgerClient.find` read the REST listing: a
client that gives each document a unique ``no`` can ask whether an earlier attempt was
committed before it sends again (the grid's audit outbox, services/grid/audit.py).
"""

from __future__ import annotations

import json
import math
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from shared.retry import Backoff

__all__ = ["LedgerClient", "LedgerError", "Recorded", "settled_slice_document"]

_TYPES = "https://github.com/Sirius-social/TMTM/tree/master/transactions/1.0/"
ISSUE_TRANSACTION = _TYPES + "issue-transaction"
CREATE_LEDGER = _TYPES + "create-ledger"
PROGRESS = _TYPES + "progress"
PROBLEM_REPORT = _TYPES + "problem_report"
#: The fields the gateway requires of every transaction (besides @type, @id and ledger).
REQUIRED = ("no", "date", "cargo", "departure_station", "arrival_station", "doc_type")


class LedgerError(Exception):
    """The gateway refused or failed the request (``code`` is its problem-code)."""

    def __init__(self, code: str, explain: str) -> None:
        super().__init__(f"{code}: {explain}")
        self.code = code
        self.explain = explain


@dataclass
class Recorded:
    """The committed transaction: ``seq_no`` in the ledger (None from a gateway that does
    not say), ``replayed`` when an earlier attempt with the same key had committed it,
    ``unconfirmed`` the participants that confirm later (it is committed all the same)."""

    ledger: str
    ledger_id: int
    created: bool
    progress: list[tuple[float | None, str]] = field(default_factory=list)
    seq_no: int | None = None
    replayed: bool = False
    unconfirmed: list[str] = field(default_factory=list)
    idempotency_key: str | None = None


def settled_slice_document(
    *,
    slice_id: str,
    producer: str,
    consumer: str,
    settled_at: str,
    usage: float,
    price: float,
    amount: int,
    unit: str = "kWh",
    payment_request: str | None = None,
    payment: str | None = None,
    payouts: dict[str, int] | None = None,
) -> dict[str, Any]:
    """A settled energy slice as a ledger document: the usage and price as measured, the
    money (``amount``, ``payouts``) in integer tokens."""
    for name, number in (("usage", usage), ("price", price)):
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise ValueError(f"{name} must be a number")
        if not math.isfinite(number) or number < 0:
            raise ValueError(f"{name} must be finite and not negative")
    money = {"amount": amount, **{f"payouts[{k}]": v for k, v in (payouts or {}).items()}}
    for name, value in money.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer (tokens)")
    return {
        "no": slice_id,
        "date": settled_at,
        "cargo": "energy",
        "departure_station": producer,
        "arrival_station": consumer,
        "doc_type": "SettledSlice",
        "slice": {
            "usage": usage,
            "unit": unit,
            "price": price,
            "amount": amount,
            "payment_request": payment_request,
            "payment": payment,
            "payouts": dict(payouts or {}),
        },
    }


class LedgerClient:
    def __init__(
        self,
        url: str,
        username: str,
        password: str,
        *,
        timeout: float = 30.0,
        time_to_live: float = 30.0,
        locked_retries: int = 5,
        retries: int = 3,
    ) -> None:
        self.url = url.rstrip("/")
        self._auth = (username, password)
        self.timeout = timeout
        self.time_to_live = time_to_live
        self.locked_retries = locked_retries
        self.retries = retries
        self._token: str | None = None
        self._token_until = 0.0

    def _ws_url(self, token: str) -> str:
        base = (
            "wss://" + self.url[8:] if self.url.startswith("https://") else "ws://" + self.url[7:]
        )
        return f"{base}/transactions?token={token}"

    async def token(self, *, fresh: bool = False) -> str:
        if not fresh and self._token and time.monotonic() < self._token_until:
            return self._token
        async with httpx.AsyncClient(timeout=self.timeout, trust_env=False) as http:
            response = await http.post(self.url + "/maintenance/allocate_token/", auth=self._auth)
        if response.status_code == 401:
            raise LedgerError("unauthorized", "the ledger gateway refused the credentials")
        response.raise_for_status()
        body = response.json()
        self._token = str(body["token"])
        # Renew a little before the gateway's expiry.
        self._token_until = time.monotonic() + max(0.0, float(body.get("expires_in", 60)) * 0.8)
        return self._token

    async def _get(self, http: httpx.AsyncClient, path: str) -> Any:
        response = await http.get(self.url + path, auth=self._auth)
        if response.status_code == 401:
            raise LedgerError("unauthorized", "the ledger gateway refused the credentials")
        response.raise_for_status()
        return response.json()

    async def ledger_id(self, name: str) -> int | None:
        """This gateway's id of the ledger called ``name`` (None: it does not exist)."""
        async with httpx.AsyncClient(timeout=self.timeout, trust_env=False) as http:
            page = 1
            while True:
                body = await self._get(http, f"/ledgers/?page={page}")
                for item in body.get("results", []):
                    if item.get("name") == name:
                        return int(item["id"])
                if not body.get("next"):
                    return None
                page += 1

    async def find(
        self, ledger_id: int, no: str, *, after_seq_no: int = 0
    ) -> dict[str, Any] | None:
        """The transaction item whose document has ``no``, looking only at seq_no greater
        than ``after_seq_no`` (the listing is newest first: usually one page)."""
        async with httpx.AsyncClient(timeout=self.timeout, trust_env=False) as http:
            page = 1
            while True:
                body = await self._get(http, f"/ledgers/{ledger_id}/transactions/?page={page}")
                results = body.get("results", [])
                for item in results:
                    if int(item["seq_no"]) <= after_seq_no:
                        return None
                    if item.get("txn", {}).get("no") == no:
                        return dict(item)
                if not results or not body.get("next"):
                    return None
                page += 1

    async def request(self, message: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
        """One websocket request: (the final message, the progress seen before it)."""
        for attempt in (1, 2):
            token = await self.token(fresh=attempt == 2)
            try:
                async with connect(
                    self._ws_url(token), open_timeout=self.timeout, max_size=2**22
                ) as ws:
                    await ws.send(json.dumps(message))
                    seen: list[tuple[float | None, str]] = []
                    async for frame in ws:
                        reply = json.loads(frame)
                        if reply.get("@type") == PROBLEM_REPORT or reply.get("done"):
                            return reply, seen
                        seen.append((reply.get("progress"), reply.get("message", "")))
                raise LedgerError("connection_closed", "the gateway closed without an answer")
            except InvalidStatus as error:
                if error.response.status_code == 403 and attempt == 1:
                    continue  # the token expired or was revoked: one more with a fresh one
                status = error.response.status_code
                raise LedgerError("refused", f"websocket refused ({status})") from None
            except ConnectionClosed:
                raise LedgerError(
                    "connection_closed", "the gateway went away mid-request"
                ) from None
        raise AssertionError("unreachable")

    async def record(
        self,
        ledger: str,
        document: dict[str, Any],
        *,
        create: bool = True,
        idempotency_key: str | None = None,
    ) -> Recorded:
        """Commit ``document`` to ``ledger`` through every participant's consensus, once
        however often it is retried (the ``idempotency_key``, default the ``no``)."""
        missing = [name for name in REQUIRED if not document.get(name)]
        if missing:
            raise ValueError(f"document lacks {', '.join(missing)}")
        key = idempotency_key or str(document["no"])
        txn = {
            **document,
            "@type": ISSUE_TRANSACTION,
            "@id": uuid.uuid4().hex,
            "ledger": {"name": ledger},
            "idempotency_key": key,
            "time_to_live": self.time_to_live,
        }
        backoff = Backoff(0.05, 2.0)
        locked = failed = 0
        while True:
            try:
                return await self._record_once(ledger, txn, create)
            except LedgerError as error:
                if error.code == "locked" and locked < self.locked_retries:
                    locked += 1  # nothing was committed: another round held the ledger
                elif (
                    error.code in _RETRYABLE
                    and "does not exist" not in error.explain
                    and failed < self.retries
                ):
                    failed += 1  # it may have committed: the same key finds it if so
                else:
                    if error.code == "locked":
                        raise LedgerError(
                            "request_processing_error", f"ledger [{ledger}] stayed locked"
                        ) from None
                    raise
            await backoff.sleep()
            txn["@id"] = uuid.uuid4().hex  # a new message, the same transaction and key

    async def _record_once(self, ledger: str, txn: dict[str, Any], create: bool) -> Recorded:
        reply, seen = await self.request(txn)
        if reply.get("done"):
            return _recorded(ledger, reply, seen, created=False)
        explain = str(reply.get("explain", ""))
        if create and f"ledger [{ledger}] does not exist" in explain:
            genesis = {k: v for k, v in txn.items() if k != "time_to_live"}
            reply, seen = await self.request(
                {
                    "@type": CREATE_LEDGER,
                    "@id": uuid.uuid4().hex,
                    "name": ledger,
                    "genesis": [genesis],
                    "time_to_live": self.time_to_live,
                }
            )
            if reply.get("done"):
                recorded = _recorded(ledger, reply, seen, created=True)
                recorded.seq_no = recorded.seq_no or 1
                recorded.idempotency_key = str(txn["idempotency_key"])
                return recorded
            explain = str(reply.get("explain", ""))
            if "already exists" in explain:
                # someone (or our own earlier attempt) created it meanwhile: issue again
                raise LedgerError("locked", explain)
        if "is locked by round" in explain:
            raise LedgerError("locked", explain)
        raise LedgerError(str(reply.get("problem-code", "unknown")), explain)


#: Failures after which the transaction may or may not be committed: retried with its key.
_RETRYABLE = ("request_processing_error", "connection_closed")


def _recorded(ledger: str, reply: dict[str, Any], seen: list[Any], *, created: bool) -> Recorded:
    seq_no = reply.get("seq_no")
    return Recorded(
        ledger,
        int(reply["ledger"]["id"]),
        created,
        seen,
        seq_no=int(seq_no) if isinstance(seq_no, int) else None,
        replayed=bool(reply.get("replayed")),
        unconfirmed=[str(p) for p in reply.get("unconfirmed") or []],
        idempotency_key=reply.get("idempotency_key"),
    )
