"""Books against wallets: every token is somewhere the books say (docs/audit.md).

Two checks, one mechanism:

- **A service's books** (``GET /books`` on every service with a wallet, built by
  :func:`books_router`): *books* is what the service's own records say it holds,
  *wallet* what its wallet really holds on the devnet, and they must be equal::

      books  = credited + received - sent
      wallet = confirmed balance at its addresses not spent from
               + remainders of its own bundles not confirmed yet

  ``credited`` is the income the service booked for addresses it *invoiced* (a robot's
  paid orders at their price, the grid's confirmed payments), from its database only;
  ``received`` is what others paid, confirmed, to its *open* addresses (deposits,
  faucet top-ups, a producer's payout addresses, channel payouts: addresses whose
  purpose is to take whatever arrives), read from the tangle; ``sent`` is the value of
  every bundle its wallet signed to somebody else (the wallet's ``wallet_sends``).
  Money at an address the wallet already spent from is *stranded*: not in ``wallet``
  (spending it would reuse a key), reported on its own line.

- **The economy** (:func:`audit_economy`, run by ``python -m services.audit``): every
  address with a confirmed balance on the devnet belongs to a service's wallet, a
  channel escrow, the faucet, or an external wallet named by the caller; unattributed
  tokens fail, and the sum of all of them must equal the supply.

Nothing here runs on its own: services include the router, ``services/audit`` is the
command, tests call :func:`collect` / :func:`wait_balanced` as a library.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

import httpx
from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from shared.iota.transaction import parse_many
from shared.web import provide, provided

__all__ = [
    "AddressHolding",
    "BooksReport",
    "BooksSource",
    "EconomyAudit",
    "EconomySnapshot",
    "Incoming",
    "LedgerView",
    "NodeLedger",
    "SendRecord",
    "WalletRecords",
    "audit_economy",
    "books_router",
    "collect",
    "compute_books",
    "records_of",
    "render",
    "wait_balanced",
    "wallet_report",
]

log = logging.getLogger("shared.books")

# IRI's maxRequestsList is 1000; stay below it (and below any byte bound of the node).
_CHUNK = 500
_HASH_CHUNK = 1000


# -- what a wallet remembers ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WalletAddressRecord:
    address: str
    purpose: str
    spent: bool


@dataclass(frozen=True, slots=True)
class SendRecord:
    """One bundle the wallet signed (a row of ``wallet_sends``)."""

    bundle: str
    to: str
    value: int
    inputs: tuple[str, ...]
    remainder_address: str | None
    remainder_value: int
    state: str
    tail: str | None


@dataclass(frozen=True, slots=True)
class WalletRecords:
    addresses: list[WalletAddressRecord]
    sends: list[SendRecord]


def records_of(wallet: Any) -> WalletRecords:
    """The records of a ``shared.iota.wallet.Wallet`` (its addresses and signed bundles)."""
    import json

    addresses = [
        WalletAddressRecord(row.address, row.purpose, bool(row.spent)) for row in wallet.addresses()
    ]
    sends = [
        SendRecord(
            bundle=row.bundle_hash,
            to=row.to_address,
            value=int(row.value),
            inputs=tuple(json.loads(row.inputs)),
            remainder_address=row.remainder_address,
            remainder_value=int(row.remainder_value or 0),
            state=row.state,
            tail=row.tail_hash,
        )
        for row in wallet.sends()
    ]
    return WalletRecords(addresses, sends)


# -- what the tangle says ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Incoming:
    """A positive-value transaction to ``address`` (reattachments counted once)."""

    address: str
    bundle: str
    value: int
    confirmed: bool


class LedgerView(Protocol):
    """What the audit asks a node (the devnet over HTTP, or a fake in unit tests)."""

    def balances(self, addresses: Sequence[str]) -> tuple[dict[str, int], int]:
        """Confirmed balances and the milestone index they were read at."""
        ...

    def confirmed(self, hashes: Sequence[str]) -> list[bool]:
        """getInclusionStates of transaction hashes."""
        ...

    def incoming(self, addresses: Sequence[str]) -> list[Incoming]:
        """Every positive-value transfer to ``addresses`` the node knows."""
        ...


class NodeLedger:
    """:class:`LedgerView` over an IRI HTTP API (blocking; call it in a thread)."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        from shared.mam.tangle import NodeApi

        self.api = NodeApi(url, timeout=timeout)

    def close(self) -> None:
        self.api.close()

    def balances(self, addresses: Sequence[str]) -> tuple[dict[str, int], int]:
        result: dict[str, int] = {}
        milestone = 0
        for start in range(0, len(addresses), _CHUNK):
            chunk = list(addresses[start : start + _CHUNK])
            reply = self.api.call("getBalances", addresses=chunk, threshold=100)
            milestone = int(reply.get("milestoneIndex", 0))
            for address, value in zip(chunk, reply["balances"], strict=True):
                result[address] = int(value)
        return result, milestone

    def confirmed(self, hashes: Sequence[str]) -> list[bool]:
        states: list[bool] = []
        for start in range(0, len(hashes), _CHUNK):
            chunk = list(hashes[start : start + _CHUNK])
            states += [
                bool(s) for s in self.api.call("getInclusionStates", transactions=chunk)["states"]
            ]
        return states

    def incoming(self, addresses: Sequence[str]) -> list[Incoming]:
        wanted = set(addresses)
        hashes: list[str] = []
        for start in range(0, len(addresses), _CHUNK):
            hashes += self.api.find_transactions(list(addresses[start : start + _CHUNK]))
        found: list[tuple[str, str, int, int, str]] = []
        for start in range(0, len(hashes), _HASH_CHUNK):
            trytes = self.api.get_trytes(hashes[start : start + _HASH_CHUNK])
            for tx in parse_many(trytes).transactions:
                if tx.value > 0 and tx.address in wanted:
                    found.append((tx.address, tx.bundle, tx.current_index, tx.value, tx.hash))
        states = self.confirmed([f[4] for f in found])
        return _deduplicate(
            (address, bundle, index, value, state)
            for (address, bundle, index, value, _), state in zip(found, states, strict=True)
        )


def _deduplicate(found: Iterable[tuple[str, str, int, int, bool]]) -> list[Incoming]:
    """One entry per (bundle, address, index): a reattached bundle moves value once."""
    merged: dict[tuple[str, str, int], Incoming] = {}
    for address, bundle, index, value, state in found:
        key = (bundle, address, index)
        known = merged.get(key)
        merged[key] = Incoming(
            address, bundle, value, state or (known is not None and known.confirmed)
        )
    return list(merged.values())


# -- one service's books -------------------------------------------------------------


class AddressHolding(BaseModel):
    address: str = Field(description="81 trytes")
    balance: int = Field(description="confirmed balance (tokens)")
    purpose: str = Field(description="what the wallet handed the address out for")
    spent: bool = Field(description="the wallet has signed with this address")


class BooksReport(BaseModel):
    """``GET /books``: a service's books against its wallet on the devnet."""

    service: str
    books: int = Field(
        description="what the service's records say it holds: credited + received - sent"
    )
    wallet: int = Field(
        description="confirmed balance at addresses not spent from + remainders in flight"
    )
    difference: int = Field(description="wallet - books; 0 when the books are right")
    balanced: bool = Field(description="difference == 0")
    credited: int = Field(
        description="income booked from the service's records (invoiced addresses)"
    )
    received: int = Field(description="confirmed transfers of others to its open addresses")
    sent: int = Field(description="value of every bundle the wallet signed to someone else")
    stranded: int = Field(
        description="confirmed balance at addresses already spent from (not spendable)"
    )
    in_flight: int = Field(description="own bundles not confirmed yet (the audit waits for them)")
    unconfirmed_incoming: int = Field(
        description="transfers to its open addresses seen but not confirmed yet"
    )
    milestone: int = Field(description="milestone index the balances were read at")
    address_count: int = Field(description="addresses the wallet has handed out")
    addresses: list[AddressHolding] = Field(
        description="every address of the wallet with a confirmed balance"
    )
    detail: dict[str, int] = Field(
        default_factory=dict, description="the service's lines making up `credited`"
    )


def compute_books(
    service: str,
    records: WalletRecords,
    ledger: LedgerView,
    *,
    credited: Mapping[str, int],
    invoiced: Callable[[str], bool],
) -> BooksReport:
    """The report of one service (see the module docstring for the formulas).

    ``credited`` are the service's income lines for its invoiced addresses (from its
    database); ``invoiced(purpose)`` says which of its addresses those are. Every other
    address is open: what others paid there, confirmed, is ``received``.
    """
    own = {a.address for a in records.addresses}
    own_bundles = {s.bundle for s in records.sends}
    inputs = {a for s in records.sends for a in s.inputs}
    balances, milestone = ledger.balances(sorted(own | inputs))
    # Bundles not confirmed yet: their remainder is the wallet's, their inputs on hold.
    open_sends = [s for s in records.sends if s.state != "settled"]
    tails = [s for s in open_sends if s.tail]
    tail_states = dict(
        zip([s.bundle for s in tails], ledger.confirmed([s.tail or "" for s in tails]), strict=True)
    )
    in_flight = [
        s
        for s in open_sends
        if not tail_states.get(s.bundle, False) and any(balances.get(a, 0) for a in s.inputs)
    ]
    on_hold = {a for s in in_flight for a in s.inputs}
    spent = {a.address for a in records.addresses if a.spent}
    unspent_total = sum(balances.get(a.address, 0) for a in records.addresses if not a.spent)
    # In flight, what comes back to the wallet (the remainder, or all of a send to one
    # of its own addresses, such as a sweep) is still on the spent inputs: it counts.
    wallet = unspent_total + sum(
        s.remainder_value + (s.value if s.to in own else 0) for s in in_flight
    )
    stranded = sum(balances.get(a, 0) for a in spent if a not in on_hold)
    sent = sum(s.value for s in records.sends if s.to not in own)
    open_addresses = [a.address for a in records.addresses if not invoiced(a.purpose)]
    received = 0
    unconfirmed = 0
    for item in ledger.incoming(open_addresses) if open_addresses else []:
        if item.bundle in own_bundles:
            continue  # our own remainder or a send to ourselves: no income
        if item.confirmed:
            received += item.value
        else:
            unconfirmed += item.value
    credit = sum(credited.values())
    books = credit + received - sent
    holdings = [
        AddressHolding(
            address=a.address, balance=balances.get(a.address, 0), purpose=a.purpose, spent=a.spent
        )
        for a in records.addresses
        if balances.get(a.address, 0)
    ]
    return BooksReport(
        service=service,
        books=books,
        wallet=wallet,
        difference=wallet - books,
        balanced=wallet == books,
        credited=credit,
        received=received,
        sent=sent,
        stranded=stranded,
        in_flight=len(in_flight),
        unconfirmed_incoming=unconfirmed,
        milestone=milestone,
        address_count=len(records.addresses),
        addresses=holdings,
        detail=dict(credited),
    )


@dataclass
class BooksSource:
    """What a service hands :func:`books_router`: its name, node, wallet and income lines.

    ``wallet`` returns the service's ``Wallet`` (None while it starts: 503);
    ``credited`` returns the service's income lines from its database (blocking);
    ``invoiced`` tells the purposes of the addresses those lines cover.
    """

    service: Callable[[], str]
    node_url: str
    wallet: Callable[[], Any]
    credited: Callable[[], Mapping[str, int]] = dict
    invoiced: Callable[[str], bool] = lambda purpose: False

    def report(self) -> BooksReport | None:
        wallet = self.wallet()
        if wallet is None:
            return None
        ledger = NodeLedger(self.node_url)
        try:
            # Income first: a payment booked after the balances were read shows as a
            # surplus for one read, never as a hole in the books.
            credited = dict(self.credited())
            return compute_books(
                self.service(),
                records_of(wallet),
                ledger,
                credited=credited,
                invoiced=self.invoiced,
            )
        finally:
            ledger.close()


def wallet_report(name: str, wallet: Any, node_url: str) -> BooksReport:
    """The books of a wallet with no records but its own (a test's or a person's): every
    address is open, so its books are what others paid it less what it sent."""
    ledger = NodeLedger(node_url)
    try:
        return compute_books(
            name, records_of(wallet), ledger, credited={}, invoiced=lambda _: False
        )
    finally:
        ledger.close()


async def _books_source(request: Request) -> BooksSource:
    source: BooksSource = provided(request, "books_source")
    return source


#: ``GET /books``, module-level; :func:`books_router` gives it one service's source.
router = APIRouter(tags=["audit"])


@router.get(
    "/books",
    response_model=BooksReport,
    responses={
        503: {
            "description": "the wallet is not ready yet, or the node did not answer "
            "(the error in the service's own error shape)",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def books(source: Annotated[BooksSource, Depends(_books_source)]) -> BooksReport:
    """The service's books (what its records say it holds) against its wallet on the
    devnet; docs/audit.md explains every field."""
    try:
        report = await asyncio.to_thread(source.report)
    except Exception as error:  # the node hangs or refuses: say so, never a 500
        log.warning("event=books_failed error=%s", type(error).__name__)
        raise HTTPException(503, f"the node did not answer ({type(error).__name__})") from None
    if report is None:
        raise HTTPException(503, "the wallet is starting")
    return report


def books_router(source: BooksSource) -> APIRouter:
    """``GET /books``: the service's books against its wallet (public, read-only)."""
    bound = APIRouter()
    bound.include_router(router, dependencies=[provide("books_source", source)])
    return bound


# -- the economy ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EscrowHolding:
    address: str
    channel_id: str
    period: int
    balance: int
    books: int  # what the channel agent's state says the escrow holds


@dataclass(frozen=True, slots=True)
class EconomySnapshot:
    """The devnet's ``GET /economy``."""

    supply: int
    total: int
    milestone: int
    faucet: dict[str, int]  # address -> balance
    escrows: list[EscrowHolding]
    balances: dict[str, int]  # every non-zero confirmed balance

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> EconomySnapshot:
        return cls(
            supply=int(body["supply"]),
            total=int(body["total"]),
            milestone=int(body["milestone"]),
            faucet={a["address"]: int(a["balance"]) for a in body["faucet"]["addresses"]},
            escrows=[
                EscrowHolding(
                    e["address"],
                    e["channel_id"],
                    int(e["period"]),
                    int(e["balance"]),
                    int(e["books"]),
                )
                for e in body["escrows"]
            ],
            balances={b["address"]: int(b["balance"]) for b in body["balances"]},
        )


@dataclass
class EconomyRow:
    """One line of the audit table."""

    kind: str  # service, escrows, faucet, external, unattributed
    name: str
    holds: int  # tokens on the devnet attributed to it (devnet's balances)
    books: int | None = None
    wallet: int | None = None
    difference: int = 0
    stranded: int = 0
    ok: bool = True
    note: str = ""


@dataclass
class EconomyAudit:
    supply: int
    total: int
    attributed: int
    milestone: int
    rows: list[EconomyRow] = field(default_factory=list)
    unattributed: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    def row(self, name: str) -> EconomyRow:
        return next(r for r in self.rows if r.name == name)


def audit_economy(
    snapshot: EconomySnapshot,
    reports: Sequence[BooksReport],
    external: Mapping[str, Iterable[str]] = {},
    *,
    unreachable: Mapping[str, str] = {},
) -> EconomyAudit:
    """Attribute every devnet balance and check every service's books (pure)."""
    audit = EconomyAudit(snapshot.supply, snapshot.total, 0, snapshot.milestone)
    owner: dict[str, str] = {}

    def claim(address: str, name: str) -> None:
        if address in owner and owner[address] != name:
            audit.failures.append(f"{address[:12]}... is claimed by {owner[address]} and {name}")
        owner.setdefault(address, name)

    for address in snapshot.faucet:
        claim(address, "faucet")
    for escrow in snapshot.escrows:
        claim(escrow.address, "escrows")
    for report in reports:
        for holding in report.addresses:
            claim(holding.address, report.service)
    for name, addresses in external.items():
        for address in addresses:
            claim(address[:81], f"external:{name}")

    held: dict[str, int] = {}
    for address, balance in snapshot.balances.items():
        holder = owner.get(address)
        if holder is None:
            audit.unattributed[address] = balance
        else:
            held[holder] = held.get(holder, 0) + balance

    for report in reports:
        ok = report.balanced
        note = []
        if report.stranded:
            note.append(f"{report.stranded} stranded at spent addresses")
        if report.in_flight:
            note.append(f"{report.in_flight} bundles in flight")
        if report.unconfirmed_incoming:
            note.append(f"{report.unconfirmed_incoming} incoming unconfirmed")
        audit.rows.append(
            EconomyRow(
                "service",
                report.service,
                held.get(report.service, 0),
                report.books,
                report.wallet,
                report.difference,
                report.stranded,
                ok,
                "; ".join(note),
            )
        )
        if not ok:
            audit.failures.append(
                f"{report.service}: books {report.books} but wallet {report.wallet} "
                f"(difference {report.difference:+d}"
                + (f", {report.stranded} stranded at spent addresses" if report.stranded else "")
                + ")"
            )
    for name, reason in unreachable.items():
        audit.rows.append(EconomyRow("service", name, 0, ok=False, note=reason))
        audit.failures.append(f"{name}: no books ({reason})")

    escrow_books = sum(e.books for e in snapshot.escrows)
    escrow_balance = sum(e.balance for e in snapshot.escrows)
    wrong = [e for e in snapshot.escrows if e.books != e.balance]
    audit.rows.append(
        EconomyRow(
            "escrows",
            "escrows",
            held.get("escrows", 0),
            escrow_books,
            escrow_balance,
            escrow_balance - escrow_books,
            ok=not wrong,
            note=f"{len(snapshot.escrows)} escrows",
        )
    )
    for escrow in wrong:
        audit.failures.append(
            f"escrow {escrow.address[:12]}... (channel {escrow.channel_id[:12]}, period "
            f"{escrow.period}): the agent's books say {escrow.books}, it holds {escrow.balance}"
        )
    audit.rows.append(EconomyRow("faucet", "faucet", held.get("faucet", 0)))
    for name in external:
        key = f"external:{name}"
        audit.rows.append(EconomyRow("external", key, held.get(key, 0)))
    if audit.unattributed:
        total = sum(audit.unattributed.values())
        audit.rows.append(
            EconomyRow(
                "unattributed",
                "unattributed",
                total,
                ok=False,
                note=f"{len(audit.unattributed)} addresses",
            )
        )
        audit.failures.append(
            f"{total} tokens on {len(audit.unattributed)} addresses belong to no wallet, "
            "escrow, faucet or named external wallet: "
            + ", ".join(f"{a[:12]}...={v}" for a, v in sorted(audit.unattributed.items())[:5])
        )
    audit.attributed = sum(held.values())
    if snapshot.total != snapshot.supply:
        audit.failures.append(
            f"the devnet's balances add up to {snapshot.total}, the supply is {snapshot.supply}"
        )
    if audit.attributed + sum(audit.unattributed.values()) != snapshot.supply:
        audit.failures.append(
            f"wallets, escrows, faucet and externals hold {audit.attributed}, "
            f"the supply is {snapshot.supply}"
        )
    return audit


def render(audit: EconomyAudit, *, color: bool = False) -> str:
    """The audit as a table; the first line says PASSED or FAILED (red on a TTY)."""
    verdict = (
        "economy audit PASSED"
        if audit.passed
        else f"economy audit FAILED: {len(audit.failures)} problem(s)"
    )
    if color and not audit.passed:
        verdict = f"\x1b[31m{verdict}\x1b[0m"
    lines = [verdict, f"milestone {audit.milestone}, supply {audit.supply}"]

    def cell(value: int | None) -> str:
        return "-" if value is None else str(value)

    header = ("", "name", "on devnet", "books", "wallet", "difference", "note")
    body = [
        (
            "ok" if r.ok else "XX",
            r.name,
            str(r.holds),
            cell(r.books),
            cell(r.wallet),
            f"{r.difference:+d}" if r.books is not None else "-",
            r.note,
        )
        for r in audit.rows
    ]
    body.append(
        (
            "ok" if audit.passed else "XX",
            "total",
            str(audit.attributed + sum(audit.unattributed.values())),
            "",
            "",
            "",
            f"supply {audit.supply}",
        )
    )
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    for row in [header, *body]:
        lines.append(
            "  ".join(
                c.ljust(w) if i in (0, 1, 6) else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
    lines += [f"- {failure}" for failure in audit.failures]
    return "\n".join(lines)


# -- collecting it over HTTP ---------------------------------------------------------


def collect(
    devnet_url: str,
    service_urls: Sequence[str],
    external: Mapping[str, Iterable[str]] = {},
    *,
    timeout: float = 30.0,
    reports: Sequence[BooksReport] = (),
) -> EconomyAudit:
    """Read every service's ``/books`` and the devnet's ``/economy``; audit them (with
    ``reports`` made by the caller, e.g. of a wallet it holds: :func:`wallet_report`)."""
    reports = list(reports)
    unreachable: dict[str, str] = {}
    with httpx.Client(timeout=timeout) as client:
        for url in service_urls:
            try:
                reply = client.get(url.rstrip("/") + "/books")
            except httpx.HTTPError as error:
                unreachable[url] = f"unreachable: {type(error).__name__}"
                continue
            if reply.status_code != 200:
                unreachable[url] = f"HTTP {reply.status_code}: {reply.text[:200]}"
                continue
            reports.append(BooksReport.model_validate(reply.json()))
        # The devnet last: an address a service handed out before is known to it by now.
        economy = client.get(devnet_url.rstrip("/") + "/economy")
        economy.raise_for_status()
    snapshot = EconomySnapshot.from_json(economy.json())
    return audit_economy(snapshot, reports, external, unreachable=unreachable)


def wait_balanced(
    devnet_url: str,
    service_urls: Sequence[str],
    external: Mapping[str, Iterable[str]] = {},
    *,
    timeout: float = 60.0,
    interval: float = 1.0,
) -> EconomyAudit:
    """:func:`collect` until it passes or ``timeout`` (money in flight settles within a
    few milestones); the last audit either way."""
    deadline = time.monotonic() + timeout
    while True:
        audit = collect(devnet_url, service_urls, external)
        if audit.passed or time.monotonic() > deadline:
            return audit
        time.sleep(interval)
