"""The devnet's persistent state (SQLAlchemy 2 Core): transactions, balances, spends, milestones.

Every write that the API acknowledges happens in one database transaction
(a whole storeTransactions body, or a whole milestone with the balances it
moves), so a kill -9 leaves either all of it or none. The engine comes from
shared.db (WAL, synchronous=FULL like every store: a commit is on disk before the
API answers, so not even a power cut loses an acknowledged transaction).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)

from shared.db import key_value_table, make_engine, put_values
from shared.migrations import Store, upgrade

__all__ = ["STORE", "StoredTransaction", "TangleStore", "metadata"]

metadata = MetaData()

transactions = Table(
    "transactions",
    metadata,
    Column("hash", String(81), primary_key=True),
    Column("trytes", Text, nullable=False),
    Column("address", String(81), nullable=False, index=True),
    Column("value", BigInteger, nullable=False),
    Column("obsolete_tag", String(27), nullable=False, index=True),
    Column("tag", String(27), nullable=False, index=True),
    Column("timestamp", BigInteger, nullable=False),
    Column("current_index", Integer, nullable=False),
    Column("last_index", Integer, nullable=False),
    Column("bundle", String(81), nullable=False, index=True),
    Column("trunk", String(81), nullable=False, index=True),
    Column("branch", String(81), nullable=False, index=True),
    Column("arrival", BigInteger, nullable=False),  # ms
    Column("milestone", Integer, nullable=True, index=True),  # confirming milestone index
)

balances = Table(
    "balances",
    metadata,
    Column("address", String(81), primary_key=True),
    Column("balance", BigInteger, nullable=False),
)

spent_addresses = Table(
    "spent_addresses", metadata, Column("address", String(81), primary_key=True)
)

# Value bundles the node accepted: their moves, and whether a milestone applied them.
value_bundles = Table(
    "value_bundles",
    metadata,
    Column("bundle", String(81), primary_key=True),
    Column("moves", Text, nullable=False),  # JSON [[address, value], ...]
    Column("milestone", Integer, nullable=True),
)

milestones = Table(
    "milestones",
    metadata,
    Column("idx", Integer, primary_key=True, autoincrement=False),
    Column("hash", String(81), nullable=False),
    Column("timestamp", BigInteger, nullable=False),
)

meta = key_value_table("meta", metadata)


@dataclass(frozen=True, slots=True)
class StoredTransaction:
    """The columns the node keeps in memory for unconfirmed transactions."""

    hash: str
    address: str
    value: int
    current_index: int
    last_index: int
    bundle: str
    trunk: str
    branch: str


# The devnet's tangle (its own database): migrations in services/devnet/migrations/tangle.
STORE = Store("tangle", Path(__file__).parent / "migrations" / "tangle", metadata)


class TangleStore:
    """Thin persistence layer; the caller (Tangle) serialises writes with its own lock."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = make_engine(url)
        upgrade(self.engine, STORE)

    def close(self) -> None:
        self.engine.dispose()

    # -- reads -------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(meta.c.value).where(meta.c.key == key)).first()
        return None if row is None else str(row[0])

    def load_balances(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {a: int(b) for a, b in conn.execute(select(balances))}

    def load_spent(self) -> set[str]:
        with self.engine.connect() as conn:
            return {row[0] for row in conn.execute(select(spent_addresses.c.address))}

    def load_hashes(self) -> dict[str, int | None]:
        """Every stored hash with its confirming milestone index (None: unconfirmed)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(transactions.c.hash, transactions.c.milestone))
            return {h: m for h, m in rows}

    def load_unconfirmed(self) -> list[StoredTransaction]:
        cols = transactions.c
        query = select(
            cols.hash,
            cols.address,
            cols.value,
            cols.current_index,
            cols.last_index,
            cols.bundle,
            cols.trunk,
            cols.branch,
        ).where(cols.milestone.is_(None))
        with self.engine.connect() as conn:
            return [StoredTransaction(*row) for row in conn.execute(query)]

    def load_value_bundles(self) -> tuple[dict[str, list[tuple[str, int]]], set[str]]:
        """(pending bundle -> moves, confirmed bundle hashes)."""
        pending: dict[str, list[tuple[str, int]]] = {}
        confirmed: set[str] = set()
        with self.engine.connect() as conn:
            for bundle, moves, milestone in conn.execute(select(value_bundles)):
                if milestone is None:
                    pending[bundle] = [(a, int(v)) for a, v in json.loads(moves)]
                else:
                    confirmed.add(bundle)
        return pending, confirmed

    def latest_milestones(self, count: int = 1) -> list[tuple[int, str, int]]:
        query = select(milestones).order_by(milestones.c.idx.desc()).limit(count)
        with self.engine.connect() as conn:
            return [(int(i), h, int(t)) for i, h, t in conn.execute(query)]

    def trytes_of(self, hashes: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(hashes), 500):
                chunk = list(hashes[start : start + 500])
                query = select(transactions.c.hash, transactions.c.trytes).where(
                    transactions.c.hash.in_(chunk)
                )
                found.update({h: t for h, t in conn.execute(query)})
        return found

    def find(self, column: str, values: Iterable[str], limit: int) -> set[str]:
        col = transactions.c[column]
        result: set[str] = set()
        items = list(values)
        with self.engine.connect() as conn:
            for start in range(0, len(items), 500):
                chunk = items[start : start + 500]
                query = select(transactions.c.hash).where(col.in_(chunk)).limit(limit + 1)
                result.update(row[0] for row in conn.execute(query))
                if len(result) > limit:
                    break
        return result

    def bundle_rows(self, bundle: str) -> list[str]:
        query = select(transactions.c.trytes).where(transactions.c.bundle == bundle)
        with self.engine.connect() as conn:
            return [row[0] for row in conn.execute(query)]

    # -- writes ------------------------------------------------------------

    def initialise(self, genesis: dict[str, int], extra_meta: dict[str, str]) -> None:
        with self.engine.begin() as conn:
            if genesis:
                conn.execute(
                    insert(balances), [{"address": a, "balance": b} for a, b in genesis.items()]
                )
            rows = [{"key": "genesis", "value": "done"}]
            rows += [{"key": k, "value": v} for k, v in extra_meta.items()]
            conn.execute(insert(meta), rows)

    def store(
        self,
        rows: list[dict[str, Any]],
        new_bundles: dict[str, list[tuple[str, int]]],
        new_spent: Iterable[str],
        meta_updates: dict[str, str] | None = None,
    ) -> None:
        """Persist one storeTransactions body atomically."""
        with self.engine.begin() as conn:
            if rows:
                conn.execute(insert(transactions), rows)
            if new_bundles:
                conn.execute(
                    insert(value_bundles),
                    [
                        {"bundle": b, "moves": json.dumps(m), "milestone": None}
                        for b, m in new_bundles.items()
                    ],
                )
            spent_rows = [{"address": a} for a in new_spent]
            if spent_rows:
                conn.execute(insert(spent_addresses), spent_rows)
            put_values(conn, meta, meta_updates or {})

    def confirm(
        self,
        index: int,
        milestone_hash: str,
        timestamp: int,
        confirmed: Sequence[str],
        balance_updates: dict[str, int],
        applied_bundles: Sequence[str],
    ) -> None:
        """Persist one milestone: confirmations, new balances, applied bundles, atomically."""
        with self.engine.begin() as conn:
            if confirmed:
                stmt = (
                    update(transactions)
                    .where(transactions.c.hash == bindparam("h"))
                    .values(milestone=index)
                )
                conn.execute(stmt, [{"h": h} for h in confirmed])
            for address, balance in balance_updates.items():
                done = conn.execute(
                    update(balances).where(balances.c.address == address).values(balance=balance)
                )
                if done.rowcount == 0:
                    conn.execute(insert(balances).values(address=address, balance=balance))
            if applied_bundles:
                conn.execute(
                    update(value_bundles)
                    .where(value_bundles.c.bundle == bindparam("b"))
                    .values(milestone=index),
                    [{"b": b} for b in applied_bundles],
                )
            conn.execute(
                insert(milestones).values(idx=index, hash=milestone_hash, timestamp=timestamp)
            )

    def prune(self, cutoff: int, extra_meta: dict[str, str]) -> tuple[list[str], list[str]]:
        """Delete what milestones up to ``cutoff`` confirmed (a local snapshot), atomically.

        Kept: balances (zero ones dropped), spent addresses, unconfirmed transactions and
        newer milestones. Returns (pruned transaction hashes, pruned value bundles).
        """
        tx_old = transactions.c.milestone.is_not(None) & (transactions.c.milestone <= cutoff)
        bundle_old = value_bundles.c.milestone.is_not(None) & (value_bundles.c.milestone <= cutoff)
        with self.engine.begin() as conn:
            hashes = [row[0] for row in conn.execute(select(transactions.c.hash).where(tx_old))]
            bundles = [
                row[0] for row in conn.execute(select(value_bundles.c.bundle).where(bundle_old))
            ]
            conn.execute(delete(transactions).where(tx_old))
            conn.execute(delete(value_bundles).where(bundle_old))
            conn.execute(delete(milestones).where(milestones.c.idx <= cutoff))
            conn.execute(delete(balances).where(balances.c.balance == 0))
            put_values(conn, meta, extra_meta)
        return hashes, bundles

    def counts(self) -> dict[str, int]:
        """Rows per table (for operators and the soak benchmark)."""
        result: dict[str, int] = {}
        with self.engine.connect() as conn:
            for table in (transactions, milestones, value_bundles, balances, spent_addresses):
                result[table.name] = int(
                    conn.execute(select(func.count()).select_from(table)).scalar() or 0
                )
        return result
