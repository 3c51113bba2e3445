"""A party's channel state in SQL (SQLite by default, PostgreSQL for HA mode).

Everything a party would miss after a crash is here: every channel with its period,
deposits, what it paid (``spent_by_me``, written **before** a package leaves the
process) and what it received (``received``, with the peer's latest signed package as
evidence), every payment sent (with its signed package, so an unanswered one is sent
again, identical, after a restart) and every payment received (with the answer given,
so a retried package gets the same answer and is never credited twice).
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

__all__ = ["Base", "ChannelRow", "ReceivedPayment", "SentPayment"]

# Local status: "opening" (registered, nothing credited yet), "open", "closing_by_me",
# "closing_by_peer", "closed" (settled; a deposit opens the next period).
STATUSES = ("opening", "open", "closing_by_me", "closing_by_peer", "closed")


class Base(DeclarativeBase):
    pass


class ChannelRow(Base):
    __tablename__ = "channel_channels"

    channel_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    role: Mapped[str] = mapped_column(String(1))  # "A" or "B": which side of it I am
    peer_url: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default="opening")
    period: Mapped[int] = mapped_column(Integer, default=1)
    deposited_by_me: Mapped[int] = mapped_column(BigInteger, default=0)
    deposited_by_peer: Mapped[int] = mapped_column(BigInteger, default=0)
    # Deposits sent but not yet credited by the agent (this period).
    deposits_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    spent_by_me: Mapped[int] = mapped_column(BigInteger, default=0)
    my_seq: Mapped[int] = mapped_column(Integer, default=0)
    received: Mapped[int] = mapped_column(BigInteger, default=0)  # the peer's amount_spent
    peer_seq: Mapped[int] = mapped_column(Integer, default=0)
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    payout_address: Mapped[str | None] = mapped_column(String(81), nullable=True)
    is_peer_ready: Mapped[bool] = mapped_column(default=False)
    registered: Mapped[bool] = mapped_column(default=False)  # the agent knows it
    close_requested: Mapped[bool] = mapped_column(default=False)  # set by close() (any front)
    # Commands sent this period: "close", "confirm", "fraud_proof" -> unix time sent.
    commands: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    settlements: Mapped[list[Any]] = mapped_column(JSON, default=list)  # payouts so far
    agent_status: Mapped[str] = mapped_column(String(20), default="")
    agent_milestone: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[float] = mapped_column(Float, default=time.time)
    updated_at: Mapped[float] = mapped_column(Float, default=time.time)


class _Payment:
    """What a payment sent and a payment received both are: one signed package, the
    ``seq``-th of its channel's period (and only one such)."""

    @declared_attr.directive
    def __table_args__(cls) -> tuple[UniqueConstraint]:
        # A method, not a tuple: each table needs a constraint object of its own.
        return (UniqueConstraint("channel_id", "period", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel_id: Mapped[str] = mapped_column(String(64), index=True)
    period: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)
    package: Mapped[dict[str, Any]] = mapped_column(JSON)


class SentPayment(_Payment, Base):
    __tablename__ = "channel_payments_sent"

    message: Mapped[Any] = mapped_column(JSON, nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # answered | error
    response: Mapped[Any] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[float] = mapped_column(Float, default=time.time)


class ReceivedPayment(_Payment, Base):
    __tablename__ = "channel_payments_received"

    answered: Mapped[bool] = mapped_column(default=False)
    response: Mapped[Any] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    front: Mapped[str] = mapped_column(String(64), default="")  # which process took it
    created_at: Mapped[float] = mapped_column(Float, default=time.time)
