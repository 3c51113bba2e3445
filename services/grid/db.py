"""The grid's tables (next to shared.energy's registrations, reader positions and channels,
on the same declarative base, so reading a message and booking it commit together).

Money columns are integer tokens; energy columns are kWh (floats, as the seed's messages).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.energy.models import EnergyBase, utcnow

__all__ = [
    "ConsumerUsage",
    "MissingQuote",
    "Payment",
    "PaymentRequestRecord",
    "Payout",
    "ProducerSlice",
    "SlicePrice",
    "StorageItem",
    "WaitingMoney",
]


class StorageItem(EnergyBase):
    """One item of the storage API; ``body`` is its JSON text."""

    __tablename__ = "grid_storage_items"

    registration_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    context: Mapped[str] = mapped_column(String(1024), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(1024), primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProducerSlice(EnergyBase):
    """A producer's ``output`` message for one slice (the latest one for that slice wins)."""

    __tablename__ = "grid_producer_slices"

    producer_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    slice_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    slice_end: Mapped[int] = mapped_column(BigInteger)
    output: Mapped[float] = mapped_column(Float)
    price: Mapped[float | None] = mapped_column(Float, nullable=True)
    payment_address: Mapped[str | None] = mapped_column(String(256), nullable=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_grid_producer_slices_start", "slice_start"),)


class ConsumerUsage(EnergyBase):
    """A consumer's ``usage`` for one slice; ``request_id`` once a payment request billed it."""

    __tablename__ = "grid_consumer_usage"

    consumer_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    slice_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    slice_end: Mapped[int] = mapped_column(BigInteger)
    usage: Mapped[float] = mapped_column(Float)
    request_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class SlicePrice(EnergyBase):
    """A settled slice: its clearing price and how it was found."""

    __tablename__ = "grid_slice_prices"

    slice_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    slice_end: Mapped[int] = mapped_column(BigInteger)
    price: Mapped[float] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(16))
    output: Mapped[float] = mapped_column(Float)
    usage: Mapped[float] = mapped_column(Float)
    requests: Mapped[int] = mapped_column(Integer)
    settled_at: Mapped[datetime] = mapped_column(default=utcnow)


class MissingQuote(EnergyBase):
    """A producer registered for a slice whose quote had not arrived when the slice was
    priced (QUOTE_GRACE_SECONDS had passed): the price was found without it."""

    __tablename__ = "grid_slice_missing_quotes"

    slice_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    producer_id: Mapped[str] = mapped_column(String(256), primary_key=True)


class PaymentRequestRecord(EnergyBase):
    """A ``payment-request`` published to a consumer's return channel."""

    __tablename__ = "grid_payment_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    consumer_id: Mapped[str] = mapped_column(String(256), index=True)
    slice_start: Mapped[int] = mapped_column(BigInteger)
    usage: Mapped[float] = mapped_column(Float)
    billed_total: Mapped[float] = mapped_column(Float)  # running kWh x price, unrounded
    amount: Mapped[int] = mapped_column(BigInteger)  # tokens this request adds
    paid: Mapped[int] = mapped_column(BigInteger, default=0)  # confirmed tokens applied
    owed: Mapped[int] = mapped_column(BigInteger)  # as published
    address: Mapped[str] = mapped_column(String(81), unique=True)
    outbox_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Payment(EnergyBase):
    """A value transfer seen to one of the grid's request addresses."""

    __tablename__ = "grid_payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bundle: Mapped[str] = mapped_column(String(81))
    address: Mapped[str] = mapped_column(String(81))
    tx_hash: Mapped[str] = mapped_column(String(81))
    consumer_id: Mapped[str] = mapped_column(String(256), index=True)
    value: Mapped[int] = mapped_column(BigInteger)
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    cut: Mapped[int] = mapped_column(BigInteger, default=0)
    # Tokens of ``value`` that reached the address after it was swept: reported, never
    # counted (shared.iota.payments.counted_part).
    late: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Counted tokens not applied to a request yet (an overpayment): the consumer's
    # credit, applied to its next requests (shared.iota.payments.allocate).
    credit: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(nullable=True)

    __table_args__ = (Index("ux_grid_payments_bundle_address", "bundle", "address", unique=True),)


class Payout(EnergyBase):
    """Tokens owed to a producer from one confirmed payment (or from waiting money).

    ``status``: ``planned`` -> ``sending`` (recorded before the wallet signs) -> ``sent``.
    A payout found ``sending`` after a restart is looked up on the tangle by its
    ``marker`` before anything is sent again.
    """

    __tablename__ = "grid_payouts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    payment_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    producer_id: Mapped[str] = mapped_column(String(256), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="planned", index=True)
    address: Mapped[str | None] = mapped_column(String(81), nullable=True)
    tail_hash: Mapped[str | None] = mapped_column(String(81), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)


class WaitingMoney(EnergyBase):
    """The producers' part of a payment made when no producer ever had output: it waits,
    recorded, and is shared out (``assigned``) once some producer has output."""

    __tablename__ = "grid_waiting_money"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    payment_id: Mapped[int] = mapped_column(Integer, index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    assigned: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
