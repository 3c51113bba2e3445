"""The channel agent's own database (services/devnet/channel_agent.py): its tables, the
store its migrations belong to, and the reads and writes the agent's loop makes on a
connection it holds (one transaction per batch of milestones)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
)

from shared.db import key_value_table, put_values
from shared.migrations import Store

__all__ = [
    "STORE",
    "agent_channels",
    "agent_deposits",
    "agent_escrows",
    "agent_events",
    "agent_meta",
    "agent_payouts",
    "credited_deposits",
    "metadata",
    "paid_escrows",
    "read_cursor",
    "write_cursor",
]

metadata = MetaData()
agent_channels = Table(
    "agent_channels",
    metadata,
    Column("channel_id", String(64), primary_key=True),
    Column("state", Text, nullable=False),  # ChannelState JSON
    Column("pending", Boolean, nullable=False, default=False),  # a payout to issue
    Column("created_at", BigInteger, nullable=False),
)
agent_escrows = Table(
    "agent_escrows",
    metadata,
    Column("address", String(81), primary_key=True),
    Column("channel_id", String(64), nullable=False, index=True),
    Column("period", Integer, nullable=False),
)
agent_payouts = Table(
    "agent_payouts",
    metadata,
    Column("escrow", String(81), primary_key=True),  # one payout per escrow, ever
    Column("channel_id", String(64), nullable=False, index=True),
    Column("period", Integer, nullable=False),
    Column("settlement", Text, nullable=False),
    Column("trytes", Text, nullable=False),  # JSON list, tail first, signed, unattached
    Column("bundle", String(81), nullable=False),
    Column("submitted", Boolean, nullable=False, default=False),
)
agent_events = Table(
    "agent_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel_id", String(64), nullable=False, index=True),
    Column("milestone", Integer, nullable=False),
    Column("period", Integer, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("accepted", Boolean, nullable=False),
    Column("reason", String(64), nullable=False),
    Column("bundle", String(81), nullable=False),
)
# Every deposit counted, by what arrived: the (escrow, bundle) pair is counted once, however
# often the bundle is reattached (a reattachment has new transaction hashes, the same bundle).
agent_deposits = Table(
    "agent_deposits",
    metadata,
    Column("escrow", String(81), primary_key=True),
    Column("bundle", String(81), primary_key=True),
    Column("channel_id", String(64), nullable=False, index=True),
    Column("period", Integer, nullable=False),
    Column("value", BigInteger, nullable=False),
    Column("milestone", Integer, nullable=False),
)
agent_meta = key_value_table("agent_meta", metadata)


# The channel agent's own database: migrations in services/devnet/migrations/channel_agent.
STORE = Store("channel_agent", Path(__file__).parent / "migrations" / "channel_agent", metadata)


def read_cursor(conn: Any) -> tuple[int, int]:
    """The last milestone the agent processed and its timestamp (0, 0 before the first)."""
    rows = dict(
        conn.execute(
            select(agent_meta.c.key, agent_meta.c.value).where(
                agent_meta.c.key.in_(["milestone", "milestone_timestamp"])
            )
        ).all()
    )
    return int(rows.get("milestone", 0)), int(rows.get("milestone_timestamp", 0))


def credited_deposits(conn: Any, escrows: list[str]) -> dict[tuple[str, str], int]:
    """(escrow, bundle) -> value of every deposit already counted on ``escrows``."""
    found: dict[tuple[str, str], int] = {}
    for start in range(0, len(escrows), 500):
        rows = conn.execute(
            select(agent_deposits.c.escrow, agent_deposits.c.bundle, agent_deposits.c.value).where(
                agent_deposits.c.escrow.in_(escrows[start : start + 500])
            )
        ).all()
        found.update({(e, b): int(v) for e, b, v in rows})
    return found


def paid_escrows(conn: Any, escrows: list[str]) -> set[str]:
    """The escrows among ``escrows`` whose payout is signed (spent, or about to be)."""
    found: set[str] = set()
    for start in range(0, len(escrows), 500):
        found.update(
            conn.execute(
                select(agent_payouts.c.escrow).where(
                    agent_payouts.c.escrow.in_(escrows[start : start + 500])
                )
            ).scalars()
        )
    return found


def write_cursor(conn: Any, index: int, timestamp: int) -> None:
    """Record ``index`` (and its timestamp) as the last milestone processed."""
    put_values(conn, agent_meta, {"milestone": str(index), "milestone_timestamp": str(timestamp)})
