"""Durable writer positions, so a restarted writer never signs with a spent Merkle leaf.

A Winternitz key must sign once: two messages under one leaf leak enough of the key to
forge a third. The store keeps, per (seed, security), how far the channel has advanced;
a writer commits the advanced position *before* its message leaves the process, with a
compare-and-swap so that two writers on one seed cannot both take the same leaf.

Only the position is stored; the row is keyed by a one-way fingerprint of the seed.
The seed and side key stay with the caller (environment or its own secret storage).
SQLAlchemy gives SQLite by default (commits are fsynced: ``synchronous=FULL``) and
PostgreSQL when the service is configured with a DATABASE_URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from shared.db import make_engine
from shared.iota.curl import curl_hash
from shared.iota.trinary import int_to_trits, trits_to_trytes, trytes_to_trits
from shared.mam.channel import ChannelState, Mode, create_channel
from shared.mam.errors import MamConflictError
from shared.migrations import Store, upgrade

__all__ = ["ChannelStore", "Position", "seed_fingerprint"]

_metadata = MetaData()
_channels = Table(
    "mam_channel_positions",
    _metadata,
    Column("fingerprint", String(81), primary_key=True),
    Column("security", Integer, nullable=False),
    Column("start", Integer, nullable=False),
    Column("count", Integer, nullable=False),
    Column("next_count", Integer, nullable=False),
    Column("leaf_index", Integer, nullable=False),
    Column("next_root", String(81), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True, slots=True)
class Position:
    """How far a channel has advanced: the part of ChannelState that must survive."""

    start: int
    count: int
    next_count: int
    index: int

    @classmethod
    def of(cls, state: ChannelState) -> Position:
        return cls(state.start, state.count, state.next_count, state.index)


def seed_fingerprint(seed: str, security: int) -> str:
    """A one-way name for the leaves of (seed, security); different modes share leaves."""
    trits = np.concatenate([trytes_to_trits(seed), int_to_trits(security, 243)])
    return trits_to_trytes(curl_hash(trits, 81))


# Channel positions: migrations in shared/mam/migrations.
STORE = Store("mam", Path(__file__).parent / "migrations", _metadata)


class ChannelStore:
    """Channel positions in a SQL database (a SQLite file unless given another URL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        upgrade(engine, STORE)

    @classmethod
    def from_url(cls, url: str) -> ChannelStore:
        return cls(make_engine(url))

    @classmethod
    def in_directory(cls, data_dir: str | Path) -> ChannelStore:
        """The default store: ``<data_dir>/mam.sqlite``."""
        path = Path(data_dir)
        path.mkdir(parents=True, exist_ok=True)
        return cls.from_url(f"sqlite:///{path / 'mam.sqlite'}")

    def close(self) -> None:
        self.engine.dispose()

    def position(self, seed: str, security: int) -> Position | None:
        """The stored position of (seed, security), or None if it never published."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(_channels).where(_channels.c.fingerprint == seed_fingerprint(seed, security))
            ).first()
        if row is None:
            return None
        # by mapping: a Row is a tuple, and tuple.count would shadow the column
        values = row._mapping
        return Position(
            values["start"], values["count"], values["next_count"], values["leaf_index"]
        )

    def open(
        self,
        seed: str,
        security: int = 2,
        mode: Mode = "public",
        side_key: str | None = None,
    ) -> ChannelState:
        """A channel state resumed at the stored position (a new channel if none is stored)."""
        state = create_channel(seed, security, mode, side_key)
        stored = self.position(seed, security)
        if stored is not None:
            state.start, state.count = stored.start, stored.count
            state.next_count, state.index = stored.next_count, stored.index
            state.validate()
        return state

    def advance(self, before: Position, state: ChannelState) -> None:
        """Record that ``state`` moved on from ``before``; MamConflictError if it already had.

        Returns only after the database committed, so a crash afterwards cannot roll the
        channel back onto a leaf that may have been used.
        """
        fingerprint = seed_fingerprint(state.seed, state.security)
        values = {
            "start": state.start,
            "count": state.count,
            "next_count": state.next_count,
            "leaf_index": state.index,
            "next_root": state.next_root,
            "updated_at": datetime.now(UTC),
        }
        with self.engine.begin() as conn:
            result = conn.execute(
                update(_channels)
                .where(_channels.c.fingerprint == fingerprint)
                .where(_channels.c.start == before.start)
                .where(_channels.c.count == before.count)
                .where(_channels.c.leaf_index == before.index)
                .values(**values)
            )
            if result.rowcount == 1:
                return
            exists = conn.execute(
                select(_channels.c.fingerprint).where(_channels.c.fingerprint == fingerprint)
            ).first()
            if exists is not None:
                raise MamConflictError(
                    "the channel advanced elsewhere since it was opened; reopen it from the store"
                )
            try:
                conn.execute(
                    insert(_channels).values(
                        fingerprint=fingerprint, security=state.security, **values
                    )
                )
            except IntegrityError:
                raise MamConflictError(
                    "another writer opened the channel at the same time"
                ) from None
