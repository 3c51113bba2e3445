"""What the grid's books show (``GET /accounts``, ``GET /prices``), read in the caller's
session from the tables :class:`services.grid.bookkeeping.GridBooks` writes."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.grid.db import (
    MissingQuote,
    Payment,
    PaymentRequestRecord,
    Payout,
    ProducerSlice,
    SlicePrice,
    WaitingMoney,
)

__all__ = ["accounts", "slice_prices", "total"]


def total(session: Session, column: Any, *where: Any) -> int:
    """The sum of ``column`` over the rows matching ``where`` (0 when there are none)."""
    return int(session.scalar(select(func.coalesce(func.sum(column), 0)).where(*where)) or 0)


def accounts(session: Session) -> dict[str, Any]:
    """``GET /accounts``: totals, consumers and producers (tokens and kWh)."""
    consumers: dict[str, dict[str, int]] = defaultdict(
        lambda: {"requested": 0, "paid": 0, "pending": 0, "owed": 0, "credit": 0, "late": 0}
    )
    for consumer, amount in session.execute(
        select(PaymentRequestRecord.consumer_id, func.sum(PaymentRequestRecord.amount)).group_by(
            PaymentRequestRecord.consumer_id
        )
    ):
        consumers[consumer]["requested"] = int(amount or 0)
    for consumer, confirmed, value, late, credit in session.execute(
        select(
            Payment.consumer_id,
            Payment.confirmed,
            func.sum(Payment.value),
            func.sum(Payment.late),
            func.sum(Payment.credit),
        ).group_by(Payment.consumer_id, Payment.confirmed)
    ):
        counted = int(value or 0) - int(late or 0)
        consumers[consumer]["paid" if confirmed else "pending"] += counted
        consumers[consumer]["late"] += int(late or 0)
        consumers[consumer]["credit"] += int(credit or 0)
    for row in consumers.values():
        row["owed"] = max(0, row["requested"] - row["paid"] - row["pending"])

    producers: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"output": 0.0, "paidOut": 0, "due": 0}
    )
    for producer, output in session.execute(
        select(ProducerSlice.producer_id, func.sum(ProducerSlice.output)).group_by(
            ProducerSlice.producer_id
        )
    ):
        producers[producer]["output"] = float(output or 0.0)
    for producer, status, amount in session.execute(
        select(Payout.producer_id, Payout.status, func.sum(Payout.amount)).group_by(
            Payout.producer_id, Payout.status
        )
    ):
        producers[producer]["paidOut" if status == "sent" else "due"] += int(amount or 0)

    received = total(session, Payment.value - Payment.late, Payment.confirmed.is_(True))
    credit = total(session, Payment.credit, Payment.confirmed.is_(True))
    late_payments = [
        {
            "consumer": row.consumer_id,
            "address": row.address,
            "bundle": row.bundle,
            "value": row.value,
            "late": row.late,
        }
        for row in session.scalars(
            select(Payment).where(Payment.late > 0).order_by(Payment.id.desc()).limit(100)
        )
    ]
    late_total = total(session, Payment.late)
    cut = total(session, Payment.cut, Payment.confirmed.is_(True))
    paid_out = total(session, Payout.amount, Payout.status == "sent")
    waiting = total(session, Payout.amount, Payout.status != "sent") + total(
        session, WaitingMoney.amount, WaitingMoney.assigned.is_(False)
    )
    return {
        "totals": {
            "received": received,
            "cut": cut,
            "paidOut": paid_out,
            "waiting": waiting,
            "credit": credit,
            "late": late_total,
        },
        "consumers": dict(consumers),
        "producers": dict(producers),
        "latePayments": late_payments,
    }


def slice_prices(session: Session, limit: int = 100) -> list[dict[str, Any]]:
    """``GET /prices``: the last ``limit`` settled slices, oldest first."""
    rows = list(
        session.scalars(select(SlicePrice).order_by(SlicePrice.slice_start.desc()).limit(limit))
    )
    missing: defaultdict[int, list[str]] = defaultdict(list)
    if rows:
        for quote in session.scalars(
            select(MissingQuote)
            .where(MissingQuote.slice_start >= rows[-1].slice_start)
            .order_by(MissingQuote.producer_id)
        ):
            missing[quote.slice_start].append(quote.producer_id)
    return [
        {
            "startTime": row.slice_start,
            "endTime": row.slice_end,
            "price": row.price,
            "method": row.method,
            "output": row.output,
            "usage": row.usage,
            "requests": row.requests,
            "missingQuotes": missing.get(row.slice_start, []),
        }
        for row in rows
    ][::-1]
