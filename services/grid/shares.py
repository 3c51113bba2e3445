"""What a confirmed payment earns, inside the booking's transaction: the consumer's credit
applied to its oldest open requests, the grid's cut of the part applied, and the rest
planned as payouts to the producers in proportion to their output in the slices those
requests billed (or kept as waiting money while no producer had output)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.grid.db import (
    ConsumerUsage,
    Payment,
    PaymentRequestRecord,
    Payout,
    ProducerSlice,
    WaitingMoney,
)
from services.grid.pricing import fee, largest_remainder
from shared.iota.payments import allocate

__all__ = ["RECENT_SLICES", "apply_credit_of", "apply_credits", "plan_payouts", "producer_weights"]

# When a payment covered no slice with output, shares come from this many most recent
# slices that had some.
RECENT_SLICES = 10


def apply_credits(session: Session, consumer_id: str, fee_percent: int) -> None:
    """Apply the consumer's credits (oldest payment first) to its open requests."""
    for payment in session.scalars(
        select(Payment)
        .where(Payment.consumer_id == consumer_id)
        .where(Payment.confirmed.is_(True), Payment.credit > 0)
        .order_by(Payment.id)
    ):
        apply_credit_of(session, payment, fee_percent)
        if payment.credit > 0:
            break  # nothing open is left


def apply_credit_of(session: Session, payment: Payment, fee_percent: int) -> dict[str, int]:
    """Pay the consumer's oldest open requests from ``payment.credit`` (what is left
    stays credit); the part applied is earned now: the cut and the producers' payouts
    for the slices those requests billed."""
    requests = list(
        session.scalars(
            select(PaymentRequestRecord)
            .where(PaymentRequestRecord.consumer_id == payment.consumer_id)
            .where(PaymentRequestRecord.paid < PaymentRequestRecord.amount)
            .order_by(PaymentRequestRecord.id)
        )
    )
    allocation = allocate(payment.credit, [r.amount - r.paid for r in requests])
    touched: list[int] = []
    for request, part in zip(requests, allocation.applied, strict=True):
        if part:
            request.paid += part
            touched.append(request.id)
    payment.credit = allocation.excess
    applied = allocation.total
    if applied <= 0:
        return {}
    cut = fee(applied, fee_percent)
    payment.cut += cut
    session.flush()
    covered = set(
        session.scalars(
            select(ConsumerUsage.slice_start).where(ConsumerUsage.request_id.in_(touched))
        )
    )
    return plan_payouts(session, payment.id, applied - cut, producer_weights(session, covered))


def producer_weights(session: Session, slices: Iterable[int]) -> dict[str, float]:
    wanted = set(slices)
    weights: dict[str, float] = defaultdict(float)
    if wanted:
        for producer, output in session.execute(
            select(ProducerSlice.producer_id, ProducerSlice.output).where(
                ProducerSlice.slice_start.in_(wanted)
            )
        ):
            weights[producer] += output
    if sum(weights.values()) > 0:
        return dict(weights)
    recent = list(
        session.scalars(
            select(ProducerSlice.slice_start)
            .group_by(ProducerSlice.slice_start)
            .having(func.sum(ProducerSlice.output) > 0)
            .order_by(ProducerSlice.slice_start.desc())
            .limit(RECENT_SLICES)
        )
    )
    weights.clear()
    if recent:
        for producer, output in session.execute(
            select(ProducerSlice.producer_id, ProducerSlice.output).where(
                ProducerSlice.slice_start.in_(recent)
            )
        ):
            weights[producer] += output
    return dict(weights)


def plan_payouts(
    session: Session, payment_id: int, amount: int, weights: dict[str, float]
) -> dict[str, int]:
    shares = largest_remainder(amount, weights)
    if amount > 0 and not shares:
        session.add(WaitingMoney(payment_id=payment_id, amount=amount))
        return {}
    for producer, tokens in sorted(shares.items()):
        session.add(Payout(payment_id=payment_id, producer_id=producer, amount=tokens))
    return shares
