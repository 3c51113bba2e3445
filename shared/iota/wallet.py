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
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from iota import Address, BadApiResponse, Iota, TransactionHash, TryteString
from iota.adapter import BaseAdapter, HttpAdapter
from sqlalchemy import (
    Boolean,
    Engine,
    Float,
    Integer,
    String,
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
from shared.retry import Backoff

__all__ = [
    "MAX_SUPPLY",
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
        _Base.metadata.create_all(self._engine)
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

    def new_address(self, purpose: str) -> str:
        """A fresh, never handed-out address (81 trytes); recorded with ``purpose`` first."""
        if not isinstance(purpose, str) or not purpose:
            raise WalletError("purpose must be a non-empty string")
        if len(purpose) > 200:
            raise WalletError(f"purpose is {len(purpose)} characters, at most 200")
        with self._lock:
            return self._allocate(purpose)

    def deposit_address(self) -> str:
        """The newest address not spent from; the first one is created on demand."""
        with self._lock:
            with self._sessions() as session:
                row = session.scalars(
                    select(WalletAddress)
                    .where(self._mine(), WalletAddress.spent.is_(False))
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

    def _allocate(self, purpose: str) -> str:
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
        """(has transactions or is spent, is spent) as the node sees it; best effort."""
        if not self.check_node_for_reuse:
            return False, False
        try:
            spent = bool(self._api.were_addresses_spent_from([Address(address)])["states"][0])
            hashes = self._api.find_transactions(addresses=[Address(address)])["hashes"]
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
        """Confirmed balance over every address of this wallet (spent ones included)."""
        rows = self.addresses()
        balances = self._balances([row.address for row in rows])
        return sum(balances.values())

    def spendable_balance(self) -> int:
        """Confirmed balance on addresses not yet spent from: what ``send`` can use."""
        rows = [row for row in self.addresses() if not row.spent]
        return sum(self._balances([row.address for row in rows]).values())

    def address_balance(self, address: str) -> int:
        """Confirmed balance of one address (any address, 81 or 90 trytes)."""
        plain = self._validate_address(address)
        return self._balances([plain])[plain]

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

        Raises InsufficientFunds when the confirmed unspent balance is too low,
        WalletError for bad arguments and NodeError when the node fails.
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
            if value > 0 and self.is_spent(recipient):
                # Funds sent there could only be moved again by reusing the key.
                raise WalletError(
                    f"refusing to send value to {_short(recipient)}..., an address this "
                    "wallet has already spent from"
                )
            return self._send(value, recipient, tag_tr, message_tr)

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
                remainder = self._allocate("remainder")
            signing = time.perf_counter()
            trytes = self._build_bundle(value, to, tag, message, inputs, balances, remainder)
            signed = time.perf_counter()
            approve = self._call(
                "getTransactionsToApprove", self._api.get_transactions_to_approve, self.depth
            )
        except BaseException:
            # Nothing signed has left the process yet: the inputs may be used again.
            self._release(inputs)
            raise
        # From here on the node has seen the signatures, so the inputs stay spent.
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
        result = SendResult(
            bundle_hash=trytes[0][_BUNDLE_SLICE],
            tail_hash=_tail_hash([str(t) for t in attached]),
            value=value,
            to=to,
            inputs=[row.address for row in inputs],
            remainder_address=remainder,
        )
        log.info(
            "event=wallet_send wallet=%s value=%d to=%s bundle=%s tail=%s inputs=%d remainder=%s"
            " prepare_ms=%.0f sign_ms=%.0f approve_ms=%.0f attach_ms=%.0f store_ms=%.0f",
            self.wallet_id[:12],
            value,
            _short(to),
            result.bundle_hash,
            result.tail_hash,
            len(inputs),
            _short(remainder) if remainder else "-",
            (signing - started) * 1000,
            (signed - signing) * 1000,
            (approved - signed) * 1000,
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
        """Pick and flag spent (atomically, in the database) inputs worth at least ``value``."""
        candidates = [row for row in self.addresses() if not row.spent and row.address != exclude]
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
        claimed = self._mark_spent(chosen, only_unspent=True)
        if len(claimed) != len(chosen):
            # Another process sharing the database spent one of them meanwhile.
            self._release(claimed)
            raise WalletError("inputs were spent concurrently by another wallet; try again")
        return chosen, balances

    def _mark_spent(
        self, rows: Sequence[WalletAddress], *, only_unspent: bool = False
    ) -> list[WalletAddress]:
        claimed: list[WalletAddress] = []
        now = time.time()
        with self._sessions.begin() as session:
            for row in rows:
                statement = update(WalletAddress).where(
                    self._mine(), WalletAddress.key_index == row.key_index
                )
                if only_unspent:
                    statement = statement.where(WalletAddress.spent.is_(False))
                result = session.execute(statement.values(spent=True, spent_at=now))
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
                    .values(spent=False, spent_at=None)
                )

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
