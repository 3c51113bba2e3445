"""Billing one consumer when a slice is settled, inside the settling transaction: its
unbilled usage priced (a late slice at its own slice's price), a payment-request record
for what it owes, its credit applied, and the ``payment-request`` queued on its return
channel. The facts billing needs are read for a whole group of consumers at once."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.grid.db import ConsumerUsage, Payment, PaymentRequestRecord, SlicePrice
from services.grid.pricing import cost_tokens
from services.grid.shares import apply_credits
from shared.energy.channels import ChannelBook
from shared.energy.messages import PaymentRequest
from shared.energy.slices import Slice, slice_at

__all__ = ["NOTHING_TO_BILL", "BillingFacts", "bill", "billing_facts", "return_channel_name"]

# ConsumerUsage.request_id of usage that added nothing to bill (0 kWh).
NOTHING_TO_BILL = -1


@dataclass
class BillingFacts:
    """Per consumer: unbilled usage rows, last billed total, tokens requested and paid;
    the prices of the slices those rows belong to; which return channels exist."""

    usage: defaultdict[str, list[ConsumerUsage]] = field(default_factory=lambda: defaultdict(list))
    prices: dict[int, float] = field(default_factory=dict)
    channels: set[str] = field(default_factory=set)
    billed_total: dict[str, float] = field(default_factory=dict)
    requested: dict[str, int] = field(default_factory=dict)
    settled: dict[str, int] = field(default_factory=dict)


def return_channel_name(consumer_id: str) -> str:
    """The name of a consumer's return channel in the grid's ChannelBook."""
    return f"return:{consumer_id}"


def billing_facts(
    session: Session, consumers: list[str], slot: Slice, book: ChannelBook, slice_seconds: float
) -> BillingFacts:
    """What billing each consumer needs, in six queries for all of them (not six
    per consumer: settling 100 consumers spent a third of its database time so)."""
    facts = BillingFacts()
    if not consumers:
        return facts
    for row in session.scalars(
        select(ConsumerUsage)
        .where(ConsumerUsage.consumer_id.in_(consumers))
        .where(ConsumerUsage.request_id.is_(None))
        .where(ConsumerUsage.slice_start < slot.end)
    ):
        facts.usage[row.consumer_id].append(row)
    starts = {
        slice_at(row.slice_start, slice_seconds).start
        for rows in facts.usage.values()
        for row in rows
    }
    if starts:
        facts.prices = {
            row.slice_start: row.price
            for row in session.scalars(select(SlicePrice).where(SlicePrice.slice_start.in_(starts)))
        }
    facts.channels = book.existing(session, [return_channel_name(c) for c in consumers])
    latest = (
        select(func.max(PaymentRequestRecord.id))
        .where(PaymentRequestRecord.consumer_id.in_(consumers))
        .group_by(PaymentRequestRecord.consumer_id)
    )
    facts.billed_total = {
        consumer: total
        for consumer, total in session.execute(
            select(PaymentRequestRecord.consumer_id, PaymentRequestRecord.billed_total).where(
                PaymentRequestRecord.id.in_(latest)
            )
        )
    }
    facts.requested = _sums(
        session, PaymentRequestRecord.consumer_id, PaymentRequestRecord.amount, consumers
    )
    # seen (pending) or confirmed and counted; late tokens never reduce what is owed
    facts.settled = _sums(session, Payment.consumer_id, Payment.value - Payment.late, consumers)
    return facts


def _sums(session: Session, key: Any, column: Any, consumers: list[str]) -> dict[str, int]:
    return {
        consumer: int(total or 0)
        for consumer, total in session.execute(
            select(key, func.sum(column)).where(key.in_(consumers)).group_by(key)
        )
    }


def bill(
    session: Session,
    consumer_id: str,
    slot: Slice,
    price: float,
    address: str,
    book: ChannelBook,
    facts: BillingFacts,
    *,
    slice_seconds: float,
    fee_percent: int,
) -> bool:
    rows = facts.usage.get(consumer_id, [])
    kwh = sum(row.usage for row in rows)
    if not rows:
        return False
    if kwh <= 0 or return_channel_name(consumer_id) not in facts.channels:
        for row in rows:
            row.request_id = NOTHING_TO_BILL
        return False
    # A late slice (settled already) is billed now at its own slice's price.
    cost = sum(
        row.usage * facts.prices.get(slice_at(row.slice_start, slice_seconds).start, price)
        for row in rows
    )
    before = facts.billed_total.get(consumer_id) or 0.0
    amount = cost_tokens(before, before + cost)
    requested = facts.requested.get(consumer_id, 0)
    settled = facts.settled.get(consumer_id, 0)
    owed = max(0, requested + amount - settled)
    record = PaymentRequestRecord(
        consumer_id=consumer_id,
        slice_start=slot.start,
        usage=kwh,
        billed_total=before + cost,
        amount=amount,
        owed=owed,
        address=address,
    )
    session.add(record)
    session.flush()
    for row in rows:
        row.request_id = record.id
    # the consumer's credit (an earlier overpayment) pays this request first
    apply_credits(session, consumer_id, fee_percent)
    queued = book.prepare(
        session, return_channel_name(consumer_id), PaymentRequest(owed, kwh, address)
    )
    session.flush()
    record.outbox_id = queued.id
    return True
