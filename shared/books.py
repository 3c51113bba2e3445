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

- **The economy** (``shared.economy.audit_economy``, run by ``python -m services.audit``): every
  address with a confirmed balance on the devnet belongs to a service's wallet, a
  channel escrow, the faucet, or an external wallet named by the caller; unattributed
  tokens fail, and the sum of all of them must equal the supply.

Nothing here runs on its own: services include the router; the economy audit, which
``services/audit`` runs and tests call as a library, is shared/economy.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from shared.iota.transaction import parse_many
from shared.web import provide, provided

__all__ = [
    "AddressHolding",
    "BooksReport",
    "BooksSource",
    "Incoming",
    "LedgerView",
    "NodeLedger",
    "SendRecord",
    "WalletRecords",
    "books_router",
    "compute_books",
    "records_of",
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
