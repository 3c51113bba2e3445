"""The IOTA wallet every machine shares: one seed, persistent key indexes, safe value transfers.

The wallet is synchronous (PyOTA 2.1.0 is) and thread-safe: one lock serialises
everything that allocates addresses or spends. Async code calls it through
``asyncio.to_thread``.

PyOTA only talks to the node here. Keys, addresses and signatures come from
the numba Kerl/WOTS code in ``shared.iota.signing`` and bundles from
``shared.iota.wallet_bundle`` (the bundle PyOTA's ProposedBundle builds, M-bug
tag bump included; tests/unit/test_wallet_fastpath.py compares them with PyOTA
trit for trit): PyOTA's pure-Python Kerl took about 0.3 s per address and a
second or more per security-2 signature.

What it remembers lives in one SQL table, ``wallet_addresses``, keyed by a
fingerprint of the seed (a SHA-256 of it, never the seed itself) so that several
wallets can share one database. A row is written *before* an address is handed
out and an input is flagged spent *before* its signature leaves the process,
so a crash (even SIGKILL) can strand funds on an address the wallet no longer
spends from, but can never make it hand out an address twice or sign with a
key twice.

Addresses handed out with ``reserve=True`` (an open order's payment address) are
never chosen as inputs until ``release`` says their purpose is over: a payout can
never sweep the money of an order still waiting its turn. Claiming inputs is one
conditional UPDATE per address (``spent = false and reserved = false``), so two
processes sharing one database (SQLite or PostgreSQL) never claim the same input.

An address pool (``fill_pool``) takes the derivation and the node's reuse check off
the path of callers that need many fresh addresses at once (the grid's settle): pooled
rows are written exactly like handed-out ones (reserved, so never an input nor a
deposit address) and ``new_address``/``new_addresses`` hand them out with one
conditional UPDATE each (``pooled = true``), so an address leaves the pool once, even
across processes sharing the database or a SIGKILL between take and use.

A signed bundle is written to ``wallet_sends`` before anything of it leaves the
process. If attaching or storing it fails, the next ``send`` (or ``resend_pending``)
attaches that same bundle again; its inputs are never signed a second time, so no
key is reused and no funds are stranded by a node outage.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import socket
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from iota import Address, BadApiResponse, Iota, TransactionHash, TryteString
from iota.adapter import BaseAdapter, HttpAdapter
from sqlalchemy import (
    BigInteger,
    Boolean,
    Engine,
    Float,
    Integer,
    String,
    Text,
    false,
    func,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from shared.db import make_engine, make_sessionmaker
from shared.iota.curl import curl_hash
from shared.iota.signing import address_of
from shared.iota.text import tag_trytes, text_to_trytes
from shared.iota.trinary import trits_to_trytes, trytes_to_trits
from shared.iota.validation import InvalidTrytes, validate_address, validate_seed
from shared.iota.wallet_bundle import WalletInput, build_transfer
from shared.migrations import Store, upgrade
from shared.retry import Backoff

__all__ = [
    "MAX_SUPPLY",
    "STORE",
    "InsufficientFunds",
    "NodeError",
    "SendResult",
    "Wallet",
    "WalletAddress",
    "WalletError",
    "seed_fingerprint",
]

log = logging.getLogger("shared.iota.wallet")

MAX_SUPPLY = (3**33 - 1) // 2
# IRI's maxRequestsList: longer getBalances/findTransactions lists are refused.
_MAX_REQUEST_LIST = 1000
_HASH_LENGTH = 81
# Field offsets in the 2673 transaction trytes (PROTOCOLS.md).
_TRANSACTION_TRYTES = 2673
_CURRENT_INDEX_SLICE = slice(2331, 2340)
_BUNDLE_SLICE = slice(2349, 2430)
# A purpose is caller text: keep it from breaking the one-event-per-line key=value format.
_LOG_UNSAFE = re.compile(r"[\s=\"]")
# A bundle being delivered for longer than this (its process died) may be taken over;
# sooner when its owner is known to be dead (see _owner_is_dead).
_DELIVERY_LEASE = 300.0
# Who is delivering a bundle: host, pid and a token of this process's life.
_PROCESS_TOKEN = secrets.token_hex(4)


def _this_process() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{_PROCESS_TOKEN}"


def _owner_is_dead(owner: str | None) -> bool:
    """True when ``owner`` ran on this host and that process is gone (a crash, SIGKILL)."""
    if not owner:
        return False
    host, _, rest = owner.partition(":")
    pid_text, _, token = rest.partition(":")
    if host != socket.gethostname()[:40] or not pid_text.isdigit():
        return False  # another host (container): only the lease tells
    pid = int(pid_text)
    if pid == os.getpid():
        return token != _PROCESS_TOKEN  # an earlier life of this pid (a restarted container)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


_UNDELIVERED = ("signed", "sending", "failed")
# The purpose of an address waiting in the pool (replaced when it is handed out).
_POOL_PURPOSE = "(pool)"


def _check_purpose(purpose: str) -> None:
    if not isinstance(purpose, str) or not purpose:
        raise WalletError("purpose must be a non-empty string")
    if len(purpose) > 200:
        raise WalletError(f"purpose is {len(purpose)} characters, at most 200")


class WalletError(Exception):
    """A wallet operation refused or failed; the message says why (never the seed)."""


class InsufficientFunds(WalletError):
    """The confirmed, unspent balance does not cover a send."""

    def __init__(self, required: int, available: int) -> None:
        super().__init__(
            f"insufficient funds: need {required}, confirmed unspent balance is {available}"
        )
        self.required = required
        self.available = available


class NodeError(WalletError):
    """The node could not be reached or refused a request."""


@dataclass(frozen=True)
class SendResult:
    """What ``Wallet.send`` put on the tangle."""

    bundle_hash: str
    tail_hash: str
    value: int
    to: str
    inputs: list[str] = field(default_factory=list)
    remainder_address: str | None = None


class _Base(DeclarativeBase):
    pass


class WalletAddress(_Base):
    """One address a wallet handed out (or found used on the tangle while looking for one)."""

    __tablename__ = "wallet_addresses"

    wallet_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    security: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(81), index=True)
    purpose: Mapped[str] = mapped_column(String(200))
    spent: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[float] = mapped_column(Float)
    spent_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    # Held for a purpose (an open order): never an input until released.
    reserved: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Derived and checked ahead of need, not handed out yet (also reserved meanwhile).
    pooled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The process that claimed this input for a send it has not recorded yet (see
    # ``_release_orphaned_claims``); cleared when the signed bundle is recorded.
    claimed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    # A reserved address whose purpose ended: swept once (``sweep_due``) after this time.
    hold_until: Mapped[float | None] = mapped_column(Float, nullable=True)
    # What its sweep moved (written with the signed sweep bundle; 0 when it was empty).
    swept_value: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class WalletSend(_Base):
    """A signed bundle, kept from before it leaves the process until it is attached."""

    __tablename__ = "wallet_sends"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    wallet_id: Mapped[str] = mapped_column(String(64), index=True)
    security: Mapped[int] = mapped_column(Integer)
    bundle_hash: Mapped[str] = mapped_column(String(81))
    to_address: Mapped[str] = mapped_column(String(81))
    value: Mapped[int] = mapped_column(BigInteger)
    inputs: Mapped[str] = mapped_column(Text)  # JSON list of input addresses
    remainder_address: Mapped[str | None] = mapped_column(String(81), nullable=True)
    remainder_value: Mapped[int] = mapped_column(BigInteger, default=0)
    trytes: Mapped[str] = mapped_column(Text)  # JSON list, tail first, unattached
    # signed -> attached (on the tangle) -> settled (confirmed); a failed attach leaves
    # it "failed" until a later send claims it ("sending") and attaches it again.
    state: Mapped[str] = mapped_column(String(16), index=True)
    touched_at: Mapped[float] = mapped_column(Float, default=0.0)
    owner: Mapped[str | None] = mapped_column(String(80), nullable=True)
    tail_hash: Mapped[str | None] = mapped_column(String(81), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[float] = mapped_column(Float)
    attached_at: Mapped[float | None] = mapped_column(Float, nullable=True)


# The wallet's tables, in the database of whichever service holds the wallet:
# migrations in shared/iota/migrations.
STORE = Store("wallet", Path(__file__).parent / "migrations", _Base.metadata)


def seed_fingerprint(seed: str, security: int) -> str:
    """The key of a wallet's rows: SHA-256 over a label, the seed and the security level.

    Seeds carry ~384 bits of entropy, so the digest reveals nothing usable; the
    security level is part of it because it changes every address.
    """
    return hashlib.sha256(f"machine-economy-wallet/v1/{security}/{seed}".encode()).hexdigest()


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _short(address: str) -> str:
    return address[:12]


def _tail_hash(attached: Sequence[str]) -> str:
    """Curl-P-81 hash of the transaction with currentIndex 0 among ``attached``."""
    tail = next((t for t in attached if t[_CURRENT_INDEX_SLICE] == "9" * 9), None)
    if tail is None or len(tail) != _TRANSACTION_TRYTES:
        raise NodeError("attachToTangle returned no tail transaction")
    return trits_to_trytes(curl_hash(trytes_to_trits(tail)))


class Wallet:
    """One seed's wallet over PyOTA 2.1.0 and a SQL database (see module docstring)."""

    def __init__(
        self,
        seed: str,
        node_url: str,
        database_url: str | Engine,
        *,
        security: int = 2,
        depth: int = 3,
        min_weight_magnitude: int = 9,
        adapter: BaseAdapter | None = None,
        request_timeout: float = 60.0,
        check_node_for_reuse: bool = True,
    ) -> None:
        try:
            self._seed = validate_seed(seed)
        except InvalidTrytes as error:
            raise WalletError(str(error)) from None
        if security not in (1, 2, 3):
            raise WalletError(f"security must be 1, 2 or 3, got {security!r}")
        if not 1 <= depth <= 15:
            raise WalletError(f"depth must be between 1 and 15, got {depth!r}")
        if not 1 <= min_weight_magnitude <= 243:
            raise WalletError(f"min_weight_magnitude must be 1..243, got {min_weight_magnitude!r}")
        self.security = security
        self.depth = depth
        self.min_weight_magnitude = min_weight_magnitude
        self.node_url = node_url
        self.check_node_for_reuse = check_node_for_reuse
        self.wallet_id = seed_fingerprint(self._seed, security)
        if adapter is None:
            if not node_url.startswith(("http://", "https://")):
                raise WalletError(f"node_url must be an http(s) URL, got {node_url[:60]!r}")
            adapter = HttpAdapter(node_url, timeout=request_timeout)
        self._api = Iota(adapter)
        self._engine = (
            database_url if isinstance(database_url, Engine) else make_engine(database_url)
        )
        upgrade(self._engine, STORE)
        self._sessions = make_sessionmaker(self._engine)
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        # Never show the seed; the fingerprint prefix tells wallets apart in logs.
        return f"Wallet(id={self.wallet_id[:12]}, node={self.node_url!r})"

    def warm_up(self) -> None:
        """Load the compiled Kerl/Curl kernels now (once per process, about 0.5-1 s).

        Optional: otherwise the first ``new_address`` or ``send`` pays for it.
        Services call it from their lifespan (in a thread) so the first order
        does not. It derives a throwaway key of an all-9 seed, never this wallet's.
        """
        address_of("9" * 81, 0, 1)
        curl_hash(np.zeros(_TRANSACTION_TRYTES * 3, dtype=np.int8))

    def close(self) -> None:
        """Release the database connections (only those this wallet's engine owns)."""
        self._engine.dispose()

    # -- addresses -----------------------------------------------------------

    def new_address(
        self, purpose: str, *, reserve: bool = False, hold_until: float | None = None
    ) -> str:
        """A fresh, never handed-out address (81 trytes); recorded with ``purpose`` first.

        ``reserve=True`` holds it for its purpose (an open order's payment address):
        ``send`` never spends from it until ``release(address)``. ``hold_until`` (Unix
        time, with ``reserve``) also says when its purpose ends: :meth:`sweep_due` then
        sweeps it once (see :meth:`sweep`). Taken from the pool when it has one (see
        :meth:`fill_pool`), derived now otherwise.
        """
        return self.new_addresses([purpose], reserve=reserve, hold_until=hold_until)[0]

    def new_addresses(
        self,
        purposes: Sequence[str],
        *,
        reserve: bool = False,
        hold_until: float | None = None,
    ) -> list[str]:
        """One fresh address per purpose, in order (pooled ones first, one transaction)."""
        for purpose in purposes:
            _check_purpose(purpose)
        if hold_until is not None and not reserve:
            raise WalletError("hold_until needs reserve=True")
        # No lock for the pool: its conditional UPDATE is safe between threads as between
        # processes, so taking pooled addresses never waits for a send holding the lock.
        taken = self._take_pooled(purposes, reserve=reserve, hold_until=hold_until)
        if len(taken) == len(purposes):
            return taken
        with self._lock:
            return taken + [
                self._allocate(purpose, reserve=reserve, hold_until=hold_until)
                for purpose in purposes[len(taken) :]
            ]

    def pool_size(self) -> int:
        """Addresses derived ahead and not handed out yet."""
        with self._sessions() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(WalletAddress)
                    .where(self._mine(), WalletAddress.pooled.is_(True))
                )
                or 0
            )

    def fill_pool(self, size: int) -> int:
        """Derive addresses ahead of need until ``size`` wait in the pool; how many added.

        Each is checked against the node and written (reserved, pooled) before it
        counts, like any handed-out address. The wallet's lock is taken per address,
        so sends and ``new_address`` calls interleave with a long fill.
        """
        added = 0
        while self.pool_size() < size:
            with self._lock:
                self._allocate(_POOL_PURPOSE, reserve=True, pooled=True)
            added += 1
        return added

    def _take_pooled(
        self, purposes: Sequence[str], *, reserve: bool, hold_until: float | None = None
    ) -> list[str]:
        """Hand out up to len(purposes) pooled addresses, oldest first, in one transaction.

        The conditional UPDATE (``pooled = true``) lets exactly one taker win an
        address when several processes share the database.
        """
        if not purposes:
            return []
        taken: list[str] = []
        with self._sessions.begin() as session:
            rows = session.execute(
                select(WalletAddress.key_index, WalletAddress.address)
                .where(self._mine(), WalletAddress.pooled.is_(True))
                .order_by(WalletAddress.key_index)
                .limit(len(purposes))
            ).all()
            for index, address in rows:
                purpose = purposes[len(taken)]
                result = session.execute(
                    update(WalletAddress)
                    .where(
                        self._mine(),
                        WalletAddress.key_index == index,
                        WalletAddress.pooled.is_(True),
                    )
                    .values(
                        pooled=False,
                        reserved=reserve,
                        purpose=purpose,
                        created_at=time.time(),
                        hold_until=hold_until,
                    )
                )
                if getattr(result, "rowcount", 0):
                    taken.append(address)
        for address, purpose in zip(taken, purposes, strict=False):
            log.info(
                "event=wallet_address_new wallet=%s address=%s purpose=%s pooled=true",
                self.wallet_id[:12],
                _short(address),
                _LOG_UNSAFE.sub("_", purpose),
            )
        return taken

    def release(self, address: str) -> bool:
        """End the reservation of ``address``: its funds may be spent from now on.

        Idempotent; True if the address was reserved.
        """
        plain = self._validate_address(address)
        with self._sessions.begin() as session:
            result = session.execute(
                update(WalletAddress)
                .where(
                    self._mine(),
                    WalletAddress.address == plain,
                    WalletAddress.reserved.is_(True),
                    WalletAddress.pooled.is_(False),  # nobody was given it: stays held
                )
                .values(reserved=False)
            )
        released = bool(getattr(result, "rowcount", 0))
        if released:
            log.info(
                "event=wallet_address_released wallet=%s address=%s",
                self.wallet_id[:12],
                _short(plain),
            )
        return released

    def reserved_addresses(self) -> list[str]:
        """Addresses held for a purpose (never inputs), oldest first."""
        with self._sessions() as session:
            return list(
                session.scalars(
                    select(WalletAddress.address)
                    .where(
                        self._mine(),
                        WalletAddress.reserved.is_(True),
                        WalletAddress.pooled.is_(False),
                    )
                    .order_by(WalletAddress.key_index)
                )
            )

    # -- holding and sweeping payment addresses ------------------------------

    def hold(self, address: str, until: float) -> bool:
        """Keep a reserved ``address`` until ``until`` (Unix time); then :meth:`sweep_due`
        sweeps it once. True if it is reserved and not swept yet (idempotent)."""
        plain = self._validate_address(address)
        with self._sessions.begin() as session:
            result = session.execute(
                update(WalletAddress)
                .where(
                    self._mine(),
                    WalletAddress.address == plain,
                    WalletAddress.reserved.is_(True),
                    WalletAddress.pooled.is_(False),
                    WalletAddress.swept_value.is_(None),
                )
                .values(hold_until=until)
            )
        return bool(getattr(result, "rowcount", 0))

    def due_sweeps(self, now: float | None = None) -> list[str]:
        """Reserved addresses whose hold has ended and that are not swept yet, oldest first."""
        moment = time.time() if now is None else now
        with self._sessions() as session:
            return list(
                session.scalars(
                    select(WalletAddress.address)
                    .where(
                        self._mine(),
                        WalletAddress.reserved.is_(True),
                        WalletAddress.pooled.is_(False),
                        WalletAddress.spent.is_(False),
                        WalletAddress.swept_value.is_(None),
                        WalletAddress.hold_until.is_not(None),
                        WalletAddress.hold_until <= moment,
                    )
                    .order_by(WalletAddress.key_index)
                )
            )

    def sweep_due(self, now: float | None = None, *, skip: Iterable[str] = ()) -> dict[str, int]:
        """Sweep every address whose hold ended (:meth:`sweep`), except those in ``skip``
        (a payment to it still on its way); address -> value moved.

        First attaches any bundle a crash left signed but not attached (a sweep killed
        after it was journaled is finished, never signed again).
        """
        skipped = set(skip)
        with self._lock:
            self._deliver_pending()
            self._release_orphaned_claims()  # a sweep killed before it was journaled
            swept: dict[str, int] = {}
            for address in self.due_sweeps(now):
                if address in skipped:
                    continue
                value = self.sweep(address)
                if value is not None:
                    swept[address] = value
            return swept

    def sweep(self, address: str) -> int | None:
        """Move everything ``address`` holds (confirmed) to a fresh address of this wallet,
        once; the value moved (0 for an empty address, which is closed without a
        signature), or None if it was swept or spent from before.

        Journaled like ``send``: the address is claimed (flagged spent) first, the signed
        bundle and ``swept_value`` are committed together before it is attached, and a
        crash after that attaches the same bundle again (``sweep_due``/``send``); a crash
        before it releases the claim (the signature never left), so the next pass sweeps
        it. The address stays recorded as spent: money arriving there later is late
        (:meth:`late_payments`), never spendable.
        """
        plain = self._validate_address(address)
        with self._lock:
            self._release_orphaned_claims()
            with self._sessions() as session:
                row = session.scalars(
                    select(WalletAddress).where(self._mine(), WalletAddress.address == plain)
                ).first()
            if row is None:
                raise WalletError(f"{_short(plain)}... is not an address of this wallet")
            if row.spent or row.swept_value is not None:
                return None
            value = self._balances([plain])[plain]
            if value > 0:
                node_spent = self._call(
                    "wereAddressesSpentFrom", self._api.were_addresses_spent_from, [Address(plain)]
                )["states"][0]
                if node_spent:
                    # Signed from before our records knew: its key must not sign again.
                    self._mark_spent([row])
                    return None
            if value == 0:
                with self._sessions.begin() as session:
                    session.execute(
                        update(WalletAddress)
                        .where(
                            self._mine(),
                            WalletAddress.key_index == row.key_index,
                            WalletAddress.swept_value.is_(None),
                        )
                        .values(swept_value=0, hold_until=None)
                    )
                log.info(
                    "event=wallet_swept wallet=%s address=%s value=0",
                    self.wallet_id[:12],
                    _short(plain),
                )
                return 0
            return self._sweep_funded(row, value)

    def _sweep_funded(self, row: WalletAddress, value: int) -> int | None:
        now = time.time()
        with self._sessions.begin() as session:
            claimed = session.execute(
                update(WalletAddress)
                .where(
                    self._mine(),
                    WalletAddress.key_index == row.key_index,
                    WalletAddress.spent.is_(False),
                )
                .values(spent=True, spent_at=now, claimed_by=_this_process())
            )
        if not getattr(claimed, "rowcount", 0):
            return None  # another process claimed it first
        try:
            to = self.new_address("sweep")
            tag = tag_trytes("SWEEP")
            message = text_to_trytes(f"sweep {_short(row.address)}")
            # A sweep moves one owner's money to itself: its value goes out as the bundle's
            # change (after the inputs, as a remainder), the zero-value first output only
            # carries the note, so whoever reads the bundle (the explorer's "tokens moved")
            # does not take it for a payment.
            trytes = self._build_bundle(0, to, tag, message, [row], {row.address: value}, to)
            approve = self._call(
                "getTransactionsToApprove", self._api.get_transactions_to_approve, self.depth
            )
            send = WalletSend(
                wallet_id=self.wallet_id,
                security=self.security,
                bundle_hash=trytes[0][_BUNDLE_SLICE],
                to_address=to,
                value=value,
                inputs=json.dumps([row.address]),
                remainder_address=None,
                remainder_value=0,
                trytes=json.dumps(trytes),
                state="signed",
                touched_at=time.time(),
                owner=_this_process(),
                attempts=0,
                created_at=time.time(),
            )
            with self._sessions.begin() as session:
                session.add(send)
                # the journal and what was swept commit together: swept once, ever
                session.execute(
                    update(WalletAddress)
                    .where(self._mine(), WalletAddress.key_index == row.key_index)
                    .values(claimed_by=None, swept_value=value, hold_until=None)
                )
        except BaseException:
            self._release([row])
            raise
        log.info(
            "event=wallet_sweep_signed wallet=%s address=%s value=%d bundle=%s",
            self.wallet_id[:12],
            _short(row.address),
            value,
            send.bundle_hash,
        )
        result = self._deliver(send, approve)
        log.info(
            "event=wallet_swept wallet=%s address=%s value=%d to=%s tail=%s",
            self.wallet_id[:12],
            _short(row.address),
            value,
            _short(to),
            result.tail_hash,
        )
        return value

    def swept_value(self, address: str) -> int | None:
        """What the sweep of ``address`` moved (0: closed empty); None if not swept."""
        plain = self._validate_address(address)
        with self._sessions() as session:
            value = session.scalar(
                select(WalletAddress.swept_value).where(
                    self._mine(), WalletAddress.address == plain
                )
            )
        return None if value is None else int(value)

    def sweep_state(self, address: str) -> tuple[bool, int | None]:
        """``(closed, cap)`` of one of this wallet's addresses for counting payments to it
        (``shared.iota.payments.counted_part``): open -> ``(False, None)``; swept ->
        ``(True, swept value)``; found empty at expiry -> ``(True, 0)`` (closed without a
        signature: what arrives later stays there, held, never spendable nor counted);
        spent by an ordinary send -> ``(True, 0)``; being swept right now (claimed, not
        journaled yet) -> ``(True, None)``."""
        plain = self._validate_address(address)
        with self._sessions() as session:
            row = session.execute(
                select(
                    WalletAddress.spent, WalletAddress.swept_value, WalletAddress.claimed_by
                ).where(self._mine(), WalletAddress.address == plain)
            ).first()
        if row is None:
            return False, None
        if row.swept_value is not None:
            return True, int(row.swept_value)  # closed: swept, or found empty at expiry
        if not row.spent:
            return False, None
        return True, None if row.claimed_by else 0

    def late_payments(self, addresses: Sequence[str]) -> dict[str, int]:
        """Money that reached any of ``addresses`` after it was swept or spent from:
        address -> confirmed tokens there that this wallet can never spend (spending
        them would reuse a key). Addresses whose own send is not confirmed yet (its
        value still sits there) are left out until it is."""
        plain = [self._validate_address(a) for a in addresses]
        with self._sessions() as session:
            rows = list(
                session.scalars(
                    select(WalletAddress).where(
                        self._mine(), WalletAddress.address.in_(plain) if plain else false()
                    )
                )
            )
            unsettled = [
                (send.tail_hash, json.loads(send.inputs))
                for send in session.scalars(
                    select(WalletSend).where(
                        WalletSend.wallet_id == self.wallet_id,
                        WalletSend.security == self.security,
                        WalletSend.state != "settled",
                    )
                )
            ]
        closed = [row.address for row in rows if row.spent or row.swept_value is not None]
        if not closed:
            return {}
        balances = self._balances(closed)
        late = {address: value for address, value in balances.items() if value > 0}
        waiting = [(tail, inputs) for tail, inputs in unsettled if set(inputs) & set(late)]
        if waiting:
            tails = [tail for tail, _ in waiting if tail]
            states: dict[str, bool] = {}
            if tails:
                reply = self._call(
                    "getInclusionStates",
                    self._api.get_inclusion_states,
                    [TransactionHash(t) for t in tails],
                    None,
                )["states"]
                states = dict(zip(tails, reply, strict=True))
            for tail, inputs in waiting:
                if not tail or not states.get(tail):
                    for address in inputs:
                        late.pop(address, None)  # its own send has not moved it yet
        return late

    def _deliver_pending(self) -> None:
        """Attach again what a crash or a node failure left signed (logged, not raised)."""
        for row in self._claim_pending():
            try:
                self._deliver(row)
            except NodeError as error:
                log.warning(
                    "event=wallet_resend_failed wallet=%s bundle=%s error=%s",
                    self.wallet_id[:12],
                    row.bundle_hash,
                    str(error)[:200],
                )

    def deposit_address(self) -> str:
        """The newest address not spent from nor reserved; the first one is created on demand."""
        with self._lock:
            with self._sessions() as session:
                row = session.scalars(
                    select(WalletAddress)
                    .where(
                        self._mine(),
                        WalletAddress.spent.is_(False),
                        WalletAddress.reserved.is_(False),
                    )
                    .order_by(WalletAddress.key_index.desc())
                    .limit(1)
                ).first()
            if row is not None:
                return row.address
            return self._allocate("deposit")

    def addresses(self) -> list[WalletAddress]:
        """Every address this wallet handed out or skipped, oldest first (for inspection)."""
        with self._sessions() as session:
            return list(
                session.scalars(
                    select(WalletAddress).where(self._mine()).order_by(WalletAddress.key_index)
                )
            )

    def is_spent(self, address: str) -> bool:
        """True if this wallet has signed with ``address`` (according to its database)."""
        plain = self._validate_address(address)
        with self._sessions() as session:
            spent = session.scalar(
                select(WalletAddress.spent).where(self._mine(), WalletAddress.address == plain)
            )
        return bool(spent)

    def _mine(self) -> Any:
        return (WalletAddress.wallet_id == self.wallet_id) & (
            WalletAddress.security == self.security
        )

    def _next_index(self, session: Session) -> int:
        highest = session.scalar(select(func.max(WalletAddress.key_index)).where(self._mine()))
        return 0 if highest is None else highest + 1

    def _allocate(
        self,
        purpose: str,
        *,
        reserve: bool = False,
        pooled: bool = False,
        hold_until: float | None = None,
    ) -> str:
        """Find the next index, skip ones used on the tangle, persist, then return."""
        with self._sessions() as session:
            index = self._next_index(session)
        while True:
            address = self._address_at(index)
            used, spent = self._used_on_tangle(address)
            row = WalletAddress(
                wallet_id=self.wallet_id,
                security=self.security,
                key_index=index,
                address=address,
                purpose=purpose if not used else "found-used-on-tangle",
                spent=spent,
                created_at=time.time(),
                spent_at=time.time() if spent else None,
                reserved=reserve and not used,
                pooled=pooled and not used,
                hold_until=hold_until if reserve and not used else None,
            )
            try:
                with self._sessions.begin() as session:
                    session.add(row)
            except IntegrityError:
                # Another process sharing this database took the index first.
                with self._sessions() as session:
                    index = max(index + 1, self._next_index(session))
                continue
            if used:
                # The database lost track of this one (reset or restored): keep it
                # on record, so its balance still counts, but never hand it out.
                log.warning(
                    "event=wallet_address_skipped wallet=%s index=%d address=%s spent=%s",
                    self.wallet_id[:12],
                    index,
                    _short(address),
                    spent,
                )
                index += 1
                continue
            log.info(
                "event=wallet_address_new wallet=%s index=%d address=%s purpose=%s",
                self.wallet_id[:12],
                index,
                _short(address),
                _LOG_UNSAFE.sub("_", purpose),
            )
            return address

    def _address_at(self, index: int) -> str:
        """The address at key ``index`` (PyOTA's AddressGenerator, checksum=False; numba Kerl)."""
        return address_of(self._seed, index, self.security)

    def _used_on_tangle(self, address: str) -> tuple[bool, bool]:
        """(has transactions, a balance or is spent; is spent) as the node sees it; best effort."""
        if not self.check_node_for_reuse:
            return False, False
        try:
            spent = bool(self._api.were_addresses_spent_from([Address(address)])["states"][0])
            hashes = self._api.find_transactions(addresses=[Address(address)])["hashes"]
            if not spent and not hashes:
                # A node with local snapshots forgets old transactions but keeps balances.
                balance = self._api.get_balances([Address(address)])["balances"][0]
                hashes = ["(balance)"] if int(balance) else []
        except Exception as error:  # node down: the database alone still prevents reuse
            log.warning(
                "event=wallet_node_check_failed address=%s error=%s",
                _short(address),
                type(error).__name__,
            )
            return False, False
        return spent or bool(hashes), spent

    # -- balances ------------------------------------------------------------

    def balance(self) -> int:
        """What the wallet really holds: confirmed balances on addresses not spent from
        (reserved ones included), plus the remainders of attached sends that are not
        confirmed yet (their value still sits on the spent inputs until a milestone).

        Funds on a spent address (stranded by a crash, or paid there later) do not
        count: spending them again would reuse a key.
        """
        # a closed address (its hold ended, swept or empty) holds only late money
        mine = self.addresses()
        own = {row.address for row in mine}
        rows = [row for row in mine if not row.spent and row.swept_value is None]
        sends = self._sends_in_flight()
        inputs = [a for send in sends for a in json.loads(send.inputs)]
        balances = self._balances([row.address for row in rows] + inputs)
        total = sum(balances[row.address] for row in rows)
        confirmed: list[bool] = []
        if sends:
            confirmed = self._call(
                "getInclusionStates",
                self._api.get_inclusion_states,
                [TransactionHash(send.tail_hash or "9" * _HASH_LENGTH) for send in sends],
                None,
            )["states"]
        settled: list[int] = []
        for send, done in zip(sends, confirmed, strict=True):
            if done or all(balances[a] == 0 for a in json.loads(send.inputs)):
                settled.append(send.id)  # the milestone moved it: the remainder counts above
            else:
                # what comes back to this wallet: the remainder, or all of a send to one of
                # its own addresses (a sweep), still on the spent inputs until the milestone
                total += send.remainder_value + (send.value if send.to_address in own else 0)
        if settled:
            with self._sessions.begin() as session:
                # Confirmed: the signed trytes are never needed again (~3 KB a transaction).
                session.execute(
                    update(WalletSend)
                    .where(WalletSend.id.in_(settled))
                    .values(state="settled", trytes="[]")
                )
        return total

    def spendable_balance(self) -> int:
        """Confirmed balance on addresses neither spent from nor reserved: what ``send`` can use."""
        rows = [row for row in self.addresses() if not row.spent and not row.reserved]
        return sum(self._balances([row.address for row in rows]).values())

    def _sends_in_flight(self) -> list[WalletSend]:
        with self._sessions() as session:
            return list(
                session.scalars(
                    select(WalletSend).where(
                        WalletSend.wallet_id == self.wallet_id,
                        WalletSend.security == self.security,
                        WalletSend.state == "attached",
                    )
                )
            )

    def pending_sends(self) -> list[WalletSend]:
        """Signed bundles not attached yet (a node failure); ``resend_pending`` sends them."""
        with self._sessions() as session:
            return list(
                session.scalars(
                    select(WalletSend)
                    .where(
                        WalletSend.wallet_id == self.wallet_id,
                        WalletSend.security == self.security,
                        WalletSend.state.in_(_UNDELIVERED),
                    )
                    .order_by(WalletSend.id)
                )
            )

    def sends(self) -> list[WalletSend]:
        """Every bundle this wallet signed, oldest first (its books of what it sent)."""
        with self._sessions() as session:
            return list(
                session.scalars(
                    select(WalletSend)
                    .where(
                        WalletSend.wallet_id == self.wallet_id,
                        WalletSend.security == self.security,
                    )
                    .order_by(WalletSend.id)
                )
            )

    def _claim_pending(self) -> list[WalletSend]:
        """Undelivered bundles no other process is delivering now, claimed atomically."""
        now = time.time()
        claimed: list[WalletSend] = []
        for row in self.pending_sends():
            if (
                row.state != "failed"
                and row.touched_at > now - _DELIVERY_LEASE
                and not _owner_is_dead(row.owner)
            ):
                continue  # another thread or process is attaching it right now
            with self._sessions.begin() as session:
                result = session.execute(
                    update(WalletSend)
                    .where(
                        WalletSend.id == row.id,
                        WalletSend.state == row.state,
                        WalletSend.touched_at == row.touched_at,
                    )
                    .values(state="sending", touched_at=now, owner=_this_process())
                )
            if getattr(result, "rowcount", 0):
                claimed.append(row)
        return claimed

    def address_balance(self, address: str) -> int:
        """Confirmed balance of one address (any address, 81 or 90 trytes)."""
        plain = self._validate_address(address)
        return self._balances([plain])[plain]

    def address_balances(self, addresses: Sequence[str]) -> dict[str, int]:
        """Confirmed balances of many addresses in as few node calls as the node allows."""
        plain = [self._validate_address(a) for a in addresses]
        return self._balances(plain)

    def _balances(self, addresses: Sequence[str]) -> dict[str, int]:
        result: dict[str, int] = {}
        for chunk in _chunks(list(addresses), _MAX_REQUEST_LIST):
            reply = self._call("getBalances", self._api.get_balances, [Address(a) for a in chunk])
            for address, value in zip(chunk, reply["balances"], strict=True):
                result[address] = int(value)
        return result

    # -- sending -------------------------------------------------------------

    def send(self, value: int, to: str, *, tag: str = "", message: str = "") -> SendResult:
        """Sign and attach a transfer of ``value`` to ``to``; the remainder goes to a new address.

        Bundles signed earlier whose attach failed are attached again first; if one of
        them pays the same ``value`` to ``to``, it is this send (a retry): its result is
        returned and nothing new is signed.

        Raises InsufficientFunds when the confirmed, unspent, unreserved balance is too
        low, WalletError for bad arguments and NodeError when the node fails.
        """
        if isinstance(value, bool) or not isinstance(value, int):
            raise WalletError(f"value must be an integer, got {type(value).__name__}")
        if value < 0 or value > MAX_SUPPLY:
            raise WalletError(f"value must be between 0 and {MAX_SUPPLY}, got {value}")
        recipient = self._validate_address(to, for_value=value > 0)
        if not isinstance(message, str):
            raise WalletError("message must be a string")
        try:
            tag_tr = tag_trytes(tag)
        except ValueError as error:
            raise WalletError(str(error)) from None
        message_tr = text_to_trytes(message)
        with self._lock:
            retried = self._resend_pending(match=(value, recipient))
            if retried is not None:
                return retried
            if value > 0:
                self._release_orphaned_claims()
            if value > 0 and self.is_spent(recipient):
                # Funds sent there could only be moved again by reusing the key.
                raise WalletError(
                    f"refusing to send value to {_short(recipient)}..., an address this "
                    "wallet has already spent from"
                )
            return self._send(value, recipient, tag_tr, message_tr)

    def resend_pending(self) -> list[SendResult]:
        """Attach again every signed bundle whose attach failed; NodeError if one fails
        (after trying all of them)."""
        with self._lock:
            results: list[SendResult] = []
            failure: NodeError | None = None
            for row in self._claim_pending():
                try:
                    results.append(self._deliver(row))
                except NodeError as error:
                    failure = failure or error
            if failure is not None:
                raise failure
            return results

    def _resend_pending(self, *, match: tuple[int, str]) -> SendResult | None:
        """Deliver pending bundles; the result of the one paying ``match`` (value, to)."""
        found: SendResult | None = None
        failure: NodeError | None = None
        claimed = self._claim_pending()
        for row in claimed:
            same = (row.value, row.to_address) == match
            try:
                result = self._deliver(row)
            except NodeError as error:
                if same:
                    failure = error  # this very transfer still cannot be sent
                    continue
                log.warning(
                    "event=wallet_resend_failed wallet=%s bundle=%s error=%s",
                    self.wallet_id[:12],
                    row.bundle_hash,
                    str(error)[:200],
                )
                continue
            if same and found is None:
                found = result
        if found is not None:
            return found
        if failure is not None:
            raise failure  # never sign a second bundle for it
        ids = {row.id for row in claimed}
        for row in self.pending_sends():
            if row.id not in ids and (row.value, row.to_address) == match:
                # Another process is attaching this very transfer right now.
                raise NodeError(
                    f"a transfer of {row.value} to {_short(row.to_address)}... is being "
                    "attached by another process; try again shortly"
                )
        return None

    def _send(self, value: int, to: str, tag: str, message: str) -> SendResult:
        started = time.perf_counter()
        inputs: list[WalletAddress] = []
        balances: dict[str, int] = {}
        remainder: str | None = None
        if value > 0:
            inputs, balances = self._claim_inputs(value, exclude=to)
        try:
            total = sum(balances[row.address] for row in inputs)
            if total > value:
                remainder = self.new_address("remainder")
            signing = time.perf_counter()
            trytes = self._build_bundle(value, to, tag, message, inputs, balances, remainder)
            approve = self._call(
                "getTransactionsToApprove", self._api.get_transactions_to_approve, self.depth
            )
            # Durable before any signature leaves the process: a failed attach sends
            # exactly these trytes again, never a second signature of these keys.
            row = WalletSend(
                wallet_id=self.wallet_id,
                security=self.security,
                bundle_hash=trytes[0][_BUNDLE_SLICE],
                to_address=to,
                value=value,
                inputs=json.dumps([r.address for r in inputs]),
                remainder_address=remainder,
                remainder_value=total - value if remainder else 0,
                trytes=json.dumps(trytes),
                state="signed",
                touched_at=time.time(),
                owner=_this_process(),
                attempts=0,
                created_at=time.time(),
            )
            with self._sessions.begin() as session:
                session.add(row)
                if inputs:
                    # recorded: from now on the bundle is sent again, never re-signed
                    session.execute(
                        update(WalletAddress)
                        .where(
                            self._mine(),
                            WalletAddress.key_index.in_([r.key_index for r in inputs]),
                        )
                        .values(claimed_by=None)
                    )
        except BaseException:
            # Nothing signed has left the process yet: the inputs may be used again.
            self._release(inputs)
            raise
        log.info(
            "event=wallet_signed wallet=%s bundle=%s value=%d inputs=%d prepare_ms=%.0f"
            " sign_ms=%.0f",
            self.wallet_id[:12],
            row.bundle_hash,
            value,
            len(inputs),
            (signing - started) * 1000,
            (time.perf_counter() - signing) * 1000,
        )
        return self._deliver(row, approve)

    def _deliver(self, row: WalletSend, approve: dict[str, Any] | None = None) -> SendResult:
        """Attach and store a recorded bundle (again, after a failure); mark it attached."""
        try:
            return self._attach_recorded(row, approve)
        except BaseException:
            with self._sessions.begin() as session:
                session.execute(
                    update(WalletSend)
                    .where(WalletSend.id == row.id)
                    .values(state="failed", touched_at=time.time())
                )
            raise

    def _attach_recorded(self, row: WalletSend, approve: dict[str, Any] | None) -> SendResult:
        trytes: list[str] = json.loads(row.trytes)
        with self._sessions.begin() as session:
            session.execute(
                update(WalletSend)
                .where(WalletSend.id == row.id)
                .values(attempts=WalletSend.attempts + 1)
            )
        started = time.perf_counter()
        if approve is None:
            approve = self._call(
                "getTransactionsToApprove", self._api.get_transactions_to_approve, self.depth
            )
        approved = time.perf_counter()
        attached = self._call(
            "attachToTangle",
            self._api.attach_to_tangle,
            approve["trunkTransaction"],
            approve["branchTransaction"],
            # Head first, as PyOTA's ProposedBundle.as_tryte_strings() sent them.
            [TryteString(t) for t in reversed(trytes)],
            self.min_weight_magnitude,
        )["trytes"]
        pow_done = time.perf_counter()
        self._store(attached)
        stored = time.perf_counter()
        tail = _tail_hash([str(t) for t in attached])
        now = time.time()
        with self._sessions.begin() as session:
            session.execute(
                update(WalletSend)
                .where(WalletSend.id == row.id)
                .values(state="attached", tail_hash=tail, attached_at=now, touched_at=now)
            )
        result = SendResult(
            bundle_hash=row.bundle_hash,
            tail_hash=tail,
            value=row.value,
            to=row.to_address,
            inputs=list(json.loads(row.inputs)),
            remainder_address=row.remainder_address,
        )
        log.info(
            "event=wallet_send wallet=%s value=%d to=%s bundle=%s tail=%s inputs=%d remainder=%s"
            " attempt=%d approve_ms=%.0f attach_ms=%.0f store_ms=%.0f",
            self.wallet_id[:12],
            row.value,
            _short(row.to_address),
            result.bundle_hash,
            result.tail_hash,
            len(result.inputs),
            _short(row.remainder_address) if row.remainder_address else "-",
            row.attempts + 1,
            (approved - started) * 1000,
            (pow_done - approved) * 1000,
            (stored - pow_done) * 1000,
        )
        return result

    def _build_bundle(
        self,
        value: int,
        to: str,
        tag: str,
        message: str,
        inputs: Sequence[WalletAddress],
        balances: dict[str, int],
        remainder: str | None,
    ) -> list[str]:
        """The signed bundle's trytes, tail first, unattached (see shared.iota.wallet_bundle)."""
        try:
            return build_transfer(
                to=to,
                value=value,
                tag=tag,
                message=message,
                inputs=[
                    WalletInput(row.address, balances[row.address], row.key_index) for row in inputs
                ],
                seed=self._seed,
                security=self.security,
                remainder=remainder,
                timestamp=int(time.time()),
            )
        except ValueError as error:
            # Not expected (inputs and remainder are chosen to fit): say so without the seed.
            raise WalletError(f"could not build the bundle: {error}") from None

    def _store(self, attached: list[TryteString]) -> None:
        """broadcastTransactions + storeTransactions, retried: the PoW is already paid for."""
        backoff = Backoff(initial=0.5, maximum=2.0)
        for attempt in range(3):
            try:
                self._api.broadcast_and_store(attached)
                return
            except BadApiResponse as error:
                # The node looked at the bundle and refused it: retrying will not help.
                raise NodeError(f"node refused the bundle: {error}") from None
            except Exception as error:
                if attempt == 2:
                    raise NodeError(
                        f"storeTransactions failed: {type(error).__name__}: {error}"
                    ) from None
                time.sleep(backoff.next_delay())

    def _claim_inputs(
        self, value: int, *, exclude: str
    ) -> tuple[list[WalletAddress], dict[str, int]]:
        """Pick and flag spent (atomically, in the database) inputs worth at least ``value``.

        Reserved addresses are never candidates. Each claim is a conditional UPDATE
        (``spent = false and reserved = false``): if another process sharing the
        database claimed or reserved one meanwhile, the claim is undone and the
        choice made again from fresh rows.
        """
        for _attempt in range(5):
            chosen, balances = self._choose_inputs(value, exclude=exclude)
            claimed = self._mark_spent(chosen, only_available=True)
            if len(claimed) == len(chosen):
                return chosen, balances
            # Another process spent one of them meanwhile: undo ours and choose again.
            self._release(claimed)
            log.info("event=wallet_claim_contended wallet=%s", self.wallet_id[:12])
        raise WalletError("inputs were spent concurrently by another wallet; try again")

    def _choose_inputs(
        self, value: int, *, exclude: str
    ) -> tuple[list[WalletAddress], dict[str, int]]:
        candidates = [
            row
            for row in self.addresses()
            if not row.spent and not row.reserved and row.address != exclude
        ]
        balances = self._balances([row.address for row in candidates])
        funded = [row for row in candidates if balances[row.address] > 0]
        if funded:
            states = self._call(
                "wereAddressesSpentFrom",
                self._api.were_addresses_spent_from,
                [Address(row.address) for row in funded],
            )["states"]
            node_spent = [row for row, spent in zip(funded, states, strict=True) if spent]
            if node_spent:
                # Spent according to the node but not to us: our records are stale.
                self._mark_spent(node_spent)
                funded = [row for row in funded if row not in node_spent]
        available = sum(balances[row.address] for row in funded)
        if available < value:
            raise InsufficientFunds(required=value, available=available)
        # Largest balances first: fewest inputs, so the fewest signatures to compute and send.
        funded.sort(key=lambda row: (-balances[row.address], row.key_index))
        chosen: list[WalletAddress] = []
        total = 0
        for row in funded:
            if total >= value:
                break
            chosen.append(row)
            total += balances[row.address]
        return chosen, balances

    def _mark_spent(
        self, rows: Sequence[WalletAddress], *, only_available: bool = False
    ) -> list[WalletAddress]:
        claimed: list[WalletAddress] = []
        now = time.time()
        with self._sessions.begin() as session:
            for row in rows:
                statement = update(WalletAddress).where(
                    self._mine(), WalletAddress.key_index == row.key_index
                )
                values: dict[str, Any] = {"spent": True, "spent_at": now}
                if only_available:
                    statement = statement.where(
                        WalletAddress.spent.is_(False), WalletAddress.reserved.is_(False)
                    )
                    values["claimed_by"] = _this_process()  # a claim for a send
                result = session.execute(statement.values(**values))
                if getattr(result, "rowcount", 1):
                    claimed.append(row)
        return claimed

    def _release(self, rows: Sequence[WalletAddress]) -> None:
        if not rows:
            return
        with self._sessions.begin() as session:
            for row in rows:
                session.execute(
                    update(WalletAddress)
                    .where(self._mine(), WalletAddress.key_index == row.key_index)
                    .values(spent=False, spent_at=None, claimed_by=None)
                )

    def _release_orphaned_claims(self) -> int:
        """Give back inputs claimed by a process that died before it recorded its bundle.

        A send claims its inputs (spent, ``claimed_by``), signs, and records the signed
        bundle before anything leaves the process; SIGKILL in between leaves inputs
        marked spent with no bundle to send again, so their tokens could never move. Such
        a claim is released when its process is gone, no recorded bundle uses the
        address, and the node has never seen it spent from: the signature died with the
        process, so signing with the key once more is its first and only use.
        """
        with self._sessions() as session:
            claimed = list(
                session.scalars(
                    select(WalletAddress).where(
                        self._mine(),
                        WalletAddress.spent.is_(True),
                        WalletAddress.claimed_by.is_not(None),
                    )
                )
            )
            orphans = [row for row in claimed if _owner_is_dead(row.claimed_by)]
            if not orphans:
                return 0
            recorded = {
                address
                for inputs in session.scalars(
                    select(WalletSend.inputs).where(
                        WalletSend.wallet_id == self.wallet_id,
                        WalletSend.security == self.security,
                    )
                )
                for address in json.loads(inputs)
            }
        orphans = [row for row in orphans if row.address not in recorded]
        if not orphans:
            return 0
        states = self._call(
            "wereAddressesSpentFrom",
            self._api.were_addresses_spent_from,
            [Address(row.address) for row in orphans],
        )["states"]
        released = [row for row, spent in zip(orphans, states, strict=True) if not spent]
        with self._sessions.begin() as session:
            for row in released:
                # Conditional: a live process's claim is never undone.
                session.execute(
                    update(WalletAddress)
                    .where(
                        self._mine(),
                        WalletAddress.key_index == row.key_index,
                        WalletAddress.claimed_by == row.claimed_by,
                    )
                    .values(spent=False, spent_at=None, claimed_by=None)
                )
                log.warning(
                    "event=wallet_claim_released wallet=%s address=%s reason=claimer_died",
                    self.wallet_id[:12],
                    _short(row.address),
                )
        return len(released)

    # -- confirmation --------------------------------------------------------

    def is_confirmed(self, tail_hash: str) -> bool:
        """True once a milestone confirms ``tail_hash`` (getInclusionStates)."""
        if (
            not isinstance(tail_hash, str)
            or len(tail_hash) != _HASH_LENGTH
            or not all(c in "9ABCDEFGHIJKLMNOPQRSTUVWXYZ" for c in tail_hash)
        ):
            raise WalletError("tail_hash must be an 81-tryte transaction hash")
        reply = self._call(
            "getInclusionStates",
            self._api.get_inclusion_states,
            [TransactionHash(tail_hash)],
            None,
        )
        return bool(reply["states"][0])

    def wait_until_confirmed(
        self, tail_hash: str, timeout: float = 30.0, poll_interval: float = 0.25
    ) -> bool:
        """Poll ``is_confirmed`` until true (True) or ``timeout`` seconds pass (False).

        Node errors while waiting (a restarting node) are logged and retried.
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.is_confirmed(tail_hash):
                    return True
            except NodeError as error:
                log.warning("event=wallet_confirm_poll_failed tail=%s error=%s", tail_hash, error)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(poll_interval, remaining))

    # -- helpers -------------------------------------------------------------

    def _validate_address(self, address: str, *, for_value: bool = False) -> str:
        try:
            return validate_address(address, for_value=for_value)
        except InvalidTrytes as error:
            raise WalletError(str(error)) from None

    def _call(self, command: str, method: Any, *args: Any) -> Any:
        try:
            return method(*args)
        except BadApiResponse as error:
            raise NodeError(f"{command} refused by node: {error}") from None
        except WalletError:
            raise
        except Exception as error:
            raise NodeError(f"{command} failed: {type(error).__name__}: {error}") from None
