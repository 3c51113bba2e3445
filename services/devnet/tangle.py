"""The devnet's ledger: validates and stores transactions, selects tips, applies milestones.

State lives in the database (services.devnet.store) and, for speed, in memory:
known hashes, unconfirmed transactions (for tip selection and the milestone
walk), confirmed balances, spent addresses, and value bundles that are stored
but not yet confirmed. A value bundle reserves its inputs when stored, so a
second bundle spending the same funds is refused instead of waiting for the
coordinator to pick one; balances move only when a milestone confirms the
bundle's tail.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from services.devnet.store import StoredTransaction, TangleStore
from shared.iota.bundle import TOTAL_SUPPLY, BundleError, validate_bundle
from shared.iota.transaction import (
    NULL_HASH,
    ParsedBatch,
    Transaction,
    TransactionFormatError,
    parse_many,
    trailing_zero_trits,
)
from shared.iota.trinary import is_trytes

__all__ = ["Milestone", "StoreResult", "Tangle", "TangleError", "load_snapshot"]

log = logging.getLogger("devnet.tangle")

MAX_FUTURE_MS = 2 * 3600 * 1000


class TangleError(ValueError):
    """Input the node refuses; the message is what the API returns."""


@dataclass(frozen=True, slots=True)
class StoreResult:
    """What a store call added (already-known transactions are skipped)."""

    stored: list[Transaction]
    arrival_ms: int


@dataclass(frozen=True, slots=True)
class Milestone:
    index: int
    hash: str
    timestamp: int
    confirmed: list[StoredTransaction]


def load_snapshot(path: Path) -> dict[str, int]:
    """Read IRI's ``ADDRESS;balance`` snapshot; ValueError names the bad line."""
    genesis: dict[str, int] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        address, sep, amount = line.partition(";")
        address = address.strip()
        if not sep or not is_trytes(address, 81):
            raise ValueError(f"line {number}: expected ADDRESS;balance with an 81-tryte address")
        try:
            balance = int(amount.strip())
        except ValueError:
            raise ValueError(f"line {number}: balance is not an integer") from None
        if balance < 0:
            raise ValueError(f"line {number}: negative balance")
        genesis[address] = genesis.get(address, 0) + balance
    total = sum(genesis.values())
    if total != TOTAL_SUPPLY:
        raise ValueError(
            f"balances add up to {total}, IRI requires the total supply {TOTAL_SUPPLY}"
        )
    return genesis


class Tangle:
    """The node's state machine; every public method is thread-safe."""

    def __init__(self, store: TangleStore, mwm: int) -> None:
        self.store = store
        self.mwm = mwm
        self.lock = threading.RLock()
        self.status: dict[str, int | None] = {}
        self.unconfirmed: dict[str, StoredTransaction] = {}
        self.tips: dict[str, None] = {}  # insertion-ordered set
        self.balances: dict[str, int] = {}
        self.spent: set[str] = set()
        self.pending_bundles: dict[str, list[tuple[str, int]]] = {}
        self.confirmed_bundles: set[str] = set()
        self.reserved: dict[str, int] = defaultdict(int)
        self.latest_milestone_index = 0
        self.latest_milestone_hash = NULL_HASH
        self.latest_milestone_time = 0
        self.milestone_start_index = 0
        self.snapshot_index = 0  # the latest local snapshot: history up to here is pruned
        self.stored_count = 0
        self._rng = random.Random()

    # -- start-up ----------------------------------------------------------

    def open(self, genesis: Callable[[], dict[str, int]]) -> None:
        """Load state from the database, writing the genesis ledger on first start."""
        if self.store.get_meta("genesis") is None:
            self.store.initialise(genesis(), {"created": str(int(time.time()))})
        self.balances = self.store.load_balances()
        self.spent = self.store.load_spent()
        self.status = self.store.load_hashes()
        self.stored_count = len(self.status)
        self.pending_bundles, self.confirmed_bundles = self.store.load_value_bundles()
        for moves in self.pending_bundles.values():
            for address, value in moves:
                if value < 0:
                    self.reserved[address] += -value
        for tx in self.store.load_unconfirmed():
            self.unconfirmed[tx.hash] = tx
        approved = set()
        for tx in self.unconfirmed.values():
            approved.add(tx.trunk)
            approved.add(tx.branch)
        self.tips = {h: None for h in self.unconfirmed if h not in approved}
        latest = self.store.latest_milestones(1)
        if latest:
            index, hash_, stamp = latest[0]
            self.latest_milestone_index = index
            self.latest_milestone_hash = hash_
            self.latest_milestone_time = stamp
        self.milestone_start_index = 0
        self.snapshot_index = int(self.store.get_meta("snapshot_index") or 0)
        log.info(
            "event=tangle_loaded transactions=%d unconfirmed=%d milestone=%d",
            self.stored_count,
            len(self.unconfirmed),
            self.latest_milestone_index,
        )

    # -- validation + storing ----------------------------------------------

    def check_transactions(self, trytes: Sequence[str]) -> ParsedBatch:
        """Parse and check each transaction on its own (hash weight, timestamps, value)."""
        try:
            batch = parse_many(trytes)
        except TransactionFormatError as error:
            raise TangleError(f"Invalid trytes input: {error}") from None
        weights = trailing_zero_trits(batch.hash_trits)
        now_ms = int(time.time() * 1000)
        for i, tx in enumerate(batch.transactions):
            if weights[i] < self.mwm:
                raise TangleError("Invalid transaction hash")
            if tx.value_out_of_range or abs(tx.value) > TOTAL_SUPPLY:
                raise TangleError("Invalid transaction value")
            stamp = tx.attachment_timestamp if tx.attachment_timestamp else tx.timestamp * 1000
            if stamp > now_ms + MAX_FUTURE_MS or stamp < 0:
                raise TangleError("Invalid transaction timestamp.")
        return batch

    def _complete_bundles(self, fresh: list[Transaction]) -> dict[str, list[Transaction]]:
        groups: dict[str, dict[int, Transaction]] = defaultdict(dict)
        for tx in fresh:
            groups[tx.bundle][tx.current_index] = tx
        bundles: dict[str, list[Transaction]] = {}
        for bundle, members in groups.items():
            last = next(iter(members.values())).last_index
            # Checked before the lookups below: currentIndex > lastIndex raised KeyError (a
            # bare 500), and a huge lastIndex made the completion loop run for hours.
            if any(not 0 <= i <= last or tx.last_index != last for i, tx in members.items()):
                raise TangleError("Invalid bundle: inconsistent currentIndex/lastIndex")
            if len(members) != last + 1:
                # Complete it from what is already stored (e.g. a reattachment).
                known = parse_many(self.store.bundle_rows(bundle)).transactions
                by_index = {tx.current_index: tx for tx in known}
                # Walk trunks from the lowest new transaction to keep one attachment.
                chain = dict(members)
                for index in sorted(by_index.keys() - chain.keys()):
                    if 0 <= index <= last:
                        chain[index] = by_index[index]
                if len(chain) != last + 1:
                    raise TangleError(f"Invalid bundle: incomplete bundle {bundle}")
                members = chain
            bundles[bundle] = [members[i] for i in range(last + 1)]
        return bundles

    def validate(self, batch: ParsedBatch) -> tuple[list[Transaction], dict[str, list]]:
        """Full validation of new transactions; returns (new transactions, value bundles)."""
        seen: set[str] = set()
        fresh: list[Transaction] = []
        for tx in batch.transactions:
            if tx.hash in self.status or tx.hash in seen:
                continue
            seen.add(tx.hash)
            fresh.append(tx)
        moves: dict[str, list[tuple[str, int]]] = {}
        for bundle, members in self._complete_bundles(fresh).items():
            try:
                bundle_moves = validate_bundle(members)
            except BundleError as error:
                raise TangleError(f"Invalid bundle: {error}") from None
            if bundle_moves:
                moves[bundle] = bundle_moves
        return fresh, moves

    def store_transactions(
        self,
        trytes: Sequence[str],
        *,
        meta_updates: dict[str, str] | None = None,
        persist: bool = True,
    ) -> StoreResult:
        """Validate and (unless ``persist`` is False: broadcast) store; all or nothing."""
        batch = self.check_transactions(trytes)
        # Signature checks are the slow part and need no lock.
        fresh, moves = self.validate(batch)
        with self.lock:
            fresh = [tx for tx in fresh if tx.hash not in self.status]
            reserve: dict[str, int] = defaultdict(int)
            new_bundles: dict[str, list[tuple[str, int]]] = {}
            new_spent: set[str] = set()
            for bundle, bundle_moves in moves.items():
                if bundle in self.pending_bundles or bundle in self.confirmed_bundles:
                    continue  # a reattachment: its inputs are already accounted for
                for address, value in bundle_moves:
                    if value >= 0:
                        continue
                    available = (
                        self.balances.get(address, 0) - self.reserved[address] - reserve[address]
                    )
                    if -value > available:
                        if self.reserved[address] or reserve[address] or address in self.spent:
                            raise TangleError(
                                f"Invalid bundle: double spend of {address}, its funds are "
                                "already spent by another bundle"
                            )
                        raise TangleError(
                            f"Invalid bundle: insufficient balance on {address}: "
                            f"spends {-value}, confirmed balance {self.balances.get(address, 0)}"
                        )
                    reserve[address] += -value
                    if address not in self.spent:
                        new_spent.add(address)
                new_bundles[bundle] = bundle_moves
            arrival = int(time.time() * 1000)
            if not persist:
                return StoreResult(fresh, arrival)
            rows = [
                {
                    "hash": tx.hash,
                    "trytes": tx.trytes,
                    "address": tx.address,
                    "value": tx.value,
                    "obsolete_tag": tx.obsolete_tag,
                    "tag": tx.tag,
                    "timestamp": tx.timestamp,
                    "current_index": tx.current_index,
                    "last_index": tx.last_index,
                    "bundle": tx.bundle,
                    "trunk": tx.trunk,
                    "branch": tx.branch,
                    "arrival": arrival,
                    "milestone": None,
                }
                for tx in fresh
            ]
            self.store.store(rows, new_bundles, new_spent, meta_updates)
            # Only after the commit: memory mirrors what is durable.
            for address, amount in reserve.items():
                self.reserved[address] += amount
            self.pending_bundles.update(new_bundles)
            self.spent.update(new_spent)
            for tx in fresh:
                self.status[tx.hash] = None
                self.unconfirmed[tx.hash] = StoredTransaction(
                    tx.hash,
                    tx.address,
                    tx.value,
                    tx.current_index,
                    tx.last_index,
                    tx.bundle,
                    tx.trunk,
                    tx.branch,
                )
                self.tips[tx.hash] = None
            for tx in fresh:
                self.tips.pop(tx.trunk, None)
                self.tips.pop(tx.branch, None)
            self.stored_count += len(fresh)
            return StoreResult(fresh, arrival)

    # -- queries -----------------------------------------------------------

    def is_confirmed(self, hash_: str) -> bool:
        return self.status.get(hash_) is not None

    def select_tips(self, reference: str | None = None) -> tuple[str, str]:
        """Two transactions to approve: unconfirmed tips if any, else the latest milestone."""
        with self.lock:
            tips = list(self.tips)
            fallback = self.latest_milestone_hash
        if reference is not None:
            if reference not in self.status:
                raise TangleError("Reference transaction is unknown")
            other = self._rng.choice(tips) if tips else fallback
            return reference, other
        if not tips:
            return fallback, fallback
        recent = tips[-64:]
        return self._rng.choice(recent), self._rng.choice(recent)

    def tip_count(self) -> int:
        return len(self.tips)

    def confirmed_balance(self, address: str) -> int:
        return self.balances.get(address, 0)

    # -- milestones --------------------------------------------------------

    def current_tips(self) -> list[str]:
        with self.lock:
            return list(self.tips)

    def apply_milestone(self, index: int, milestone_hash: str, timestamp: int) -> Milestone:
        """Confirm everything ``milestone_hash`` references; move balances; persist atomically."""
        with self.lock:
            confirmed: list[StoredTransaction] = []
            stack = [milestone_hash]
            visited: set[str] = set()
            while stack:
                current = stack.pop()
                if current in visited:
                    continue
                visited.add(current)
                tx = self.unconfirmed.get(current)
                if tx is None:
                    continue  # confirmed earlier, or the null hash / genesis
                confirmed.append(tx)
                stack.append(tx.trunk)
                stack.append(tx.branch)
            new_balances: dict[str, int] = {}
            applied: list[str] = []
            release: dict[str, int] = defaultdict(int)
            for tx in confirmed:
                if tx.current_index != 0 or tx.bundle not in self.pending_bundles:
                    continue
                if tx.bundle in applied:
                    continue
                for address, value in self.pending_bundles[tx.bundle]:
                    base = new_balances.get(address, self.balances.get(address, 0))
                    new_balances[address] = base + value
                    if value < 0:
                        release[address] += -value
                applied.append(tx.bundle)
            self.store.confirm(
                index,
                milestone_hash,
                timestamp,
                [tx.hash for tx in confirmed],
                new_balances,
                applied,
            )
            for tx in confirmed:
                self.status[tx.hash] = index
                self.unconfirmed.pop(tx.hash, None)
                self.tips.pop(tx.hash, None)
            self.balances.update(new_balances)
            for address, amount in release.items():
                self.reserved[address] -= amount
                if self.reserved[address] <= 0:
                    del self.reserved[address]
            for bundle in applied:
                self.pending_bundles.pop(bundle, None)
                self.confirmed_bundles.add(bundle)
            self.latest_milestone_index = index
            self.latest_milestone_hash = milestone_hash
            self.latest_milestone_time = timestamp
            return Milestone(index, milestone_hash, timestamp, confirmed)

    # -- local snapshots -----------------------------------------------------

    def prune(self, depth: int) -> int:
        """Take a local snapshot ``depth`` milestones back: delete the transactions, milestones
        and value bundles confirmed up to there, keeping balances and spent addresses.

        Returns the new snapshot index (unchanged when there was nothing to prune).
        """
        with self.lock:
            cutoff = self.latest_milestone_index - depth
            if cutoff <= self.snapshot_index:
                return self.snapshot_index
            hashes, bundles = self.store.prune(
                cutoff, {"snapshot_index": str(cutoff), "snapshot_time": str(int(time.time()))}
            )
            for hash_ in hashes:
                self.status.pop(hash_, None)
            self.confirmed_bundles.difference_update(bundles)
            for address in [a for a, b in self.balances.items() if b == 0]:
                del self.balances[address]
            self.stored_count -= len(hashes)
            self.snapshot_index = cutoff
        log.info(
            "event=local_snapshot index=%d pruned_transactions=%d pruned_bundles=%d",
            cutoff,
            len(hashes),
            len(bundles),
        )
        return cutoff

    def snapshot_state(self) -> tuple[int, dict[str, int], list[str]]:
        """(latest milestone, non-zero balances, spent addresses), consistent with each other."""
        with self.lock:
            balances = {a: b for a, b in self.balances.items() if b}
            return self.latest_milestone_index, balances, sorted(self.spent)

    def supply_check(self) -> int:
        """Sum of confirmed balances (always the total supply)."""
        return int(np.sum(np.fromiter(self.balances.values(), dtype=np.int64)))
