"""The grid's books: what channels said, what was billed, paid, cut and paid out.

Every method is blocking database work (call it through ``shared.db.run_db``) and does
its part in one transaction, so a SIGKILL at any moment leaves the books consistent:

- a channel message is booked in the transaction that moves the reader past it;
- settling a slice records its price, bills each consumer's unbilled usage and queues
  the ``payment-request`` on the consumer's return channel in one commit;
- confirming a payment takes the grid's cut and plans every producer payout (or records
  the money as waiting) in one commit;
- a payout is marked ``sending`` before the wallet signs, ``sent`` with its tail after.

The books always satisfy ``received == cut + paidOut + waiting + credit`` where
``waiting`` is money not yet sent to producers (planned payouts and money no producer can
take yet) and ``credit`` what consumers paid beyond their requests (applied to their next
ones). Tokens that reached a request address after it was swept are ``late``: reported,
never in ``received`` (shared/iota/payments.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from services.grid import reports
from services.grid.billing import bill, billing_facts, return_channel_name
from services.grid.db import (
    ConsumerUsage,
    MissingQuote,
    Payment,
    PaymentRequestRecord,
    Payout,
    ProducerSlice,
    SlicePrice,
    WaitingMoney,
)
from services.grid.pricing import Offer, Pricing, clearing_price
from services.grid.reports import total
from services.grid.shares import (
    RECENT_SLICES,
    apply_credit_of,
    plan_payouts,
    producer_weights,
)
from shared.energy.channels import ChannelBook
from shared.energy.messages import EnergyMessage, Output, ProducerOutput, Usage
from shared.energy.models import ReaderPosition, Registration, utcnow
from shared.energy.roles import SELLING_ROLES, buys, sells
from shared.energy.slices import Slice, slice_at
from shared.iota.payments import counted_part

__all__ = ["RECENT_SLICES", "AuditHook", "GridBooks", "SettledSlice", "return_channel_name"]

log = logging.getLogger("services.grid.bookkeeping")


# The audit trail (services/grid/audit.py): called as ``hook(session, kind, key)`` inside
# the booking's own transaction, so its outbox record commits (or not) with the booking.
AuditHook = Callable[[Session, str, int], None]


@dataclass(frozen=True, slots=True)
class SettledSlice:
    slice: Slice
    price: float
    method: str
    requests: int
    missing_quotes: tuple[str, ...] = ()


@dataclass(eq=False)
class GridBooks:
    """The grid's books over its database (see the module docstring)."""

    sessions: sessionmaker[Session]
    _: KW_ONLY
    slice_seconds: float
    fee_percent: int
    pricing: Pricing
    default_price: float
    # Set by the app when the audit trail is on (services/grid/audit.py).
    audit: AuditHook | None = field(default=None, init=False)

    def _audit(self, session: Session, kind: str, key: int) -> None:
        if self.audit is not None:
            session.flush()
            self.audit(session, kind, key)

    # -- channel messages ----------------------------------------------------

    def handle_message(
        self, session: Session, registration_id: str, message: EnergyMessage
    ) -> None:
        """Book one message read from a registrant's channel (in the reader's transaction)."""
        registration = session.get(Registration, registration_id)
        if registration is None:
            # The reader started before the registration was saved (or it was deleted):
            # roll back so the message is read again rather than dropped.
            raise LookupError(f"registration {registration_id} is not saved (yet)")
        role = registration.role
        if isinstance(message, Output | ProducerOutput) and sells(role):
            self._book_output(session, registration_id, message)
        elif isinstance(message, Usage) and buys(role):
            self._book_usage(session, registration_id, message)
        elif isinstance(message, Output | ProducerOutput | Usage):
            log.warning(
                "event=message_ignored registration=%s type=%s reason=not_for_%s",
                registration_id,
                type(message).__name__,
                role,
            )

    def _book_output(
        self, session: Session, producer_id: str, message: Output | ProducerOutput
    ) -> None:
        slot = slice_at(message.start_time, self.slice_seconds)
        row = session.get(ProducerSlice, (producer_id, slot.start))
        if row is None:
            row = ProducerSlice(producer_id=producer_id, slice_start=slot.start)
            session.add(row)
        # The latest message for a slice replaces the earlier one: never counted twice.
        row.slice_end = slot.end
        row.output = message.output
        row.received_at = utcnow()
        if isinstance(message, ProducerOutput):
            row.price = message.producer_price
            row.payment_address = message.payment_id_or_address
        else:
            row.price = None

    def _book_usage(self, session: Session, consumer_id: str, message: Usage) -> None:
        slot = slice_at(message.start_time, self.slice_seconds)
        row = session.get(ConsumerUsage, (consumer_id, slot.start))
        if row is None:
            session.add(
                ConsumerUsage(
                    consumer_id=consumer_id,
                    slice_start=slot.start,
                    slice_end=slot.end,
                    usage=message.usage,
                )
            )
        elif row.request_id is None:
            row.usage = message.usage  # a re-sent slice replaces the unbilled one
            row.received_at = utcnow()
        else:
            # Billed already: a re-sent slice is not billed twice.
            log.info("event=usage_resent_ignored consumer=%s slice=%d", consumer_id, slot.start)

    # -- settling slices -----------------------------------------------------

    def _audit_previous(self, session: Session, slot: Slice) -> None:
        previous = session.scalars(
            select(SlicePrice.slice_start)
            .where(SlicePrice.slice_start < slot.start)
            .order_by(SlicePrice.slice_start.desc())
            .limit(1)
        ).first()
        if previous is not None:
            self._audit(session, "slice", previous)  # once per slice: a no-op when recorded

    @staticmethod
    def _missing_quotes(session: Session, slot: Slice) -> list[str]:
        """Producers registered for ``slot`` whose quote for it has not arrived.

        Registered for a slice: registered (with a channel the grid follows and no
        ``goodbye`` read) before the slice ended. A producer reports the slice in which it
        started, so one that registered during the slice quotes for it too.
        """
        end = datetime.fromtimestamp(slot.end / 1000, UTC)
        expected = [
            registration_id
            for registration_id, created in session.execute(
                select(Registration.registration_id, Registration.created_at)
                .join(
                    ReaderPosition,
                    ReaderPosition.registration_id == Registration.registration_id,
                )
                .where(Registration.role.in_(SELLING_ROLES))
                .where(ReaderPosition.closed.is_(False))
            )
            # SQLite hands back naive datetimes (stored as UTC)
            if (created if created.tzinfo else created.replace(tzinfo=UTC)) < end
        ]
        if not expected:
            return []
        quoted = set(
            session.scalars(
                select(ProducerSlice.producer_id).where(
                    ProducerSlice.slice_start == slot.start,
                    ProducerSlice.producer_id.in_(expected),
                    ProducerSlice.price.is_not(None),
                )
            )
        )
        return sorted(set(expected) - quoted)

    def missing_quotes(self, slot: Slice) -> list[str]:
        """The quotes ``slot`` still waits for (see :meth:`_missing_quotes`)."""
        with self.sessions() as session:
            return self._missing_quotes(session, slot)

    def last_settled(self) -> Slice | None:
        with self.sessions() as session:
            row = session.scalars(
                select(SlicePrice).order_by(SlicePrice.slice_start.desc()).limit(1)
            ).first()
            return None if row is None else Slice(row.slice_start, row.slice_end)

    def consumers_to_bill(self, slot: Slice) -> list[str]:
        """Consumers with usage not yet billed from slices that ended by ``slot``'s end."""
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(ConsumerUsage.consumer_id)
                    .where(ConsumerUsage.request_id.is_(None))
                    .where(ConsumerUsage.slice_start < slot.end)
                    .distinct()
                )
            )

    def settle(
        self,
        slot: Slice,
        addresses: dict[str, str],
        book: ChannelBook,
        *,
        chunk: int = 0,
        committed: Callable[[], None] | None = None,
    ) -> SettledSlice:
        """Price ``slot`` and bill every consumer in ``addresses`` (consumer -> fresh grid
        address) for its unbilled usage, queueing the payment requests on ``book``.

        With ``chunk`` the consumers are billed ``chunk`` per transaction and
        ``committed`` is called after each commit, so the first requests can be attached
        while the rest are still being signed. The first transaction records the price:
        after a crash between chunks the slice counts as settled and the consumers not
        billed yet are billed with the next slice at this slice's price, as late usage
        is; nothing is lost or billed twice.
        """
        consumers = sorted(addresses)
        size = chunk if chunk > 0 else max(1, len(consumers))
        groups = [consumers[n : n + size] for n in range(0, len(consumers), size)] or [[]]
        with self.sessions.begin() as session:
            if session.get(SlicePrice, slot.start) is not None:
                raise ValueError(f"slice {slot.start} is settled already")
            offers = [
                Offer(row.producer_id, row.output, row.price)
                for row in session.scalars(
                    select(ProducerSlice).where(
                        ProducerSlice.slice_start == slot.start, ProducerSlice.price.is_not(None)
                    )
                )
                if row.price is not None
            ]
            output = float(
                session.scalar(
                    select(func.coalesce(func.sum(ProducerSlice.output), 0.0)).where(
                        ProducerSlice.slice_start == slot.start
                    )
                )
                or 0.0
            )
            usage = float(
                session.scalar(
                    select(func.coalesce(func.sum(ConsumerUsage.usage), 0.0)).where(
                        ConsumerUsage.slice_start == slot.start
                    )
                )
                or 0.0
            )
            last = session.scalars(
                select(SlicePrice.price).order_by(SlicePrice.slice_start.desc()).limit(1)
            ).first()
            price, method = clearing_price(
                offers, usage, self.pricing, self.default_price if last is None else last
            )
            missing = self._missing_quotes(session, slot)
            session.add_all(MissingQuote(slice_start=slot.start, producer_id=p) for p in missing)
            requests = self._bill_group(session, groups[0], slot, price, addresses, book)
            session.add(
                SlicePrice(
                    slice_start=slot.start,
                    slice_end=slot.end,
                    price=price,
                    method=method,
                    output=output,
                    usage=usage,
                    requests=requests,
                )
            )
            if last is not None:
                # a crash between the chunks of the previous slice left it unrecorded
                self._audit_previous(session, slot)
            if len(groups) == 1:
                self._audit(session, "slice", slot.start)
        if committed is not None:
            committed()
        for number, group in enumerate(groups[1:], start=2):
            with self.sessions.begin() as session:
                billed = self._bill_group(session, group, slot, price, addresses, book)
                session.execute(
                    update(SlicePrice)
                    .where(SlicePrice.slice_start == slot.start)
                    .values(requests=SlicePrice.requests + billed)
                )
                if number == len(groups):
                    # the record holds every request of the slice: written with the last chunk
                    self._audit(session, "slice", slot.start)
            requests += billed
            if committed is not None:
                committed()
        if missing:
            log.warning(
                "event=quotes_missing start=%d producers=%s price=%.4f method=%s",
                slot.start,
                ",".join(missing),
                price,
                method,
            )
        log.info(
            "event=slice_settled start=%d price=%.4f method=%s output=%.4f usage=%.4f "
            "requests=%d quotes=%d missing_quotes=%d",
            slot.start,
            price,
            method,
            output,
            usage,
            requests,
            len(offers),
            len(missing),
        )
        return SettledSlice(slot, price, method, requests, tuple(missing))

    def _bill_group(
        self,
        session: Session,
        consumers: list[str],
        slot: Slice,
        price: float,
        addresses: dict[str, str],
        book: ChannelBook,
    ) -> int:
        facts = billing_facts(session, consumers, slot, book, self.slice_seconds)
        return sum(
            bill(
                session,
                consumer,
                slot,
                price,
                addresses[consumer],
                book,
                facts,
                slice_seconds=self.slice_seconds,
                fee_percent=self.fee_percent,
            )
            for consumer in consumers
        )

    # -- payments ------------------------------------------------------------

    def request_addresses(self, limit: int = 10_000) -> dict[str, str]:
        """The newest ``limit`` payment-request addresses -> their consumers (what the
        payment watchers look for; a consumer pays its latest request's address)."""
        with self.sessions() as session:
            return {
                address: consumer
                for address, consumer in session.execute(
                    select(PaymentRequestRecord.address, PaymentRequestRecord.consumer_id)
                    .order_by(PaymentRequestRecord.id.desc())
                    .limit(limit)
                )
            }

    def record_payment(self, bundle: str, address: str, tx_hash: str, value: int) -> bool:
        """Book a value transfer seen to a request address (pending); False if known or
        not to a request address."""
        with self.sessions.begin() as session:
            consumer = session.scalars(
                select(PaymentRequestRecord.consumer_id).where(
                    PaymentRequestRecord.address == address
                )
            ).first()
            if consumer is None or value <= 0:
                return False
            known = session.scalars(
                select(Payment.id).where(Payment.bundle == bundle, Payment.address == address)
            ).first()
            if known is not None:
                return False
            session.add(
                Payment(
                    bundle=bundle,
                    address=address,
                    tx_hash=tx_hash,
                    consumer_id=consumer,
                    value=value,
                )
            )
        log.info("event=payment_seen consumer=%s value=%d bundle=%s", consumer, value, bundle)
        return True

    def pending_payments(self) -> list[tuple[int, str, str]]:
        """Seen, not confirmed yet: (id, tail hash, request address)."""
        with self.sessions() as session:
            return [
                (row.id, row.tx_hash, row.address)
                for row in session.scalars(select(Payment).where(Payment.confirmed.is_(False)))
            ]

    def pending_addresses(self) -> set[str]:
        """Request addresses with a payment seen but not confirmed (not swept meanwhile)."""
        with self.sessions() as session:
            return set(session.scalars(select(Payment.address).where(Payment.confirmed.is_(False))))

    def confirm_payment(
        self, payment_id: int, *, spent: bool = False, cap: int | None = None
    ) -> bool:
        """Book a confirmed payment (once): the part that counts is applied to the
        consumer's open requests (the cut taken, the producers' payouts planned) and any
        excess kept as the consumer's credit; tokens that reached the address after it was
        swept are late, reported and never counted (``spent``/``cap``: the wallet's
        ``sweep_state`` of the address; shared.iota.payments). False when there is nothing
        to do now (booked already, or the address is being swept: ask again)."""
        with self.sessions.begin() as session:
            payment = session.get(Payment, payment_id, with_for_update=True)
            if payment is None or payment.confirmed:
                return False
            before = total(
                session,
                Payment.value - Payment.late,
                Payment.address == payment.address,
                Payment.confirmed.is_(True),
            )
            parts = counted_part(payment.value, counted_before=before, spent=spent, swept_value=cap)
            if parts is None:
                return False
            counted, late = parts
            payment.confirmed = True
            payment.confirmed_at = utcnow()
            payment.late = late
            payment.cut = 0
            payment.credit = counted
            planned = apply_credit_of(session, payment, self.fee_percent)
            self._audit(session, "payment", payment.id)
        log.info(
            "event=payment_confirmed id=%d consumer=%s value=%d cut=%d producers=%d credit=%d"
            " late=%d",
            payment_id,
            payment.consumer_id,
            payment.value,
            payment.cut,
            len(planned),
            payment.credit,
            late,
        )
        if late:
            log.warning(
                "event=payment_late id=%d consumer=%s address=%s bundle=%s late=%d"
                " reason=address_swept_before_it_arrived",
                payment_id,
                payment.consumer_id,
                payment.address,
                payment.bundle,
                late,
            )
        return True

    def assign_waiting(self) -> int:
        """Share out waiting money once some producer has had output; tokens assigned."""
        with self.sessions.begin() as session:
            rows = list(
                session.scalars(
                    select(WaitingMoney).where(WaitingMoney.assigned.is_(False)).with_for_update()
                )
            )
            if not rows:
                return 0
            weights = producer_weights(session, ())
            if sum(weights.values()) <= 0:
                return 0
            total = 0
            for row in rows:
                plan_payouts(session, row.payment_id, row.amount, weights)
                row.assigned = True
                total += row.amount
        log.info("event=waiting_money_assigned tokens=%d", total)
        return total

    # -- payouts -------------------------------------------------------------

    def open_payouts(self) -> list[Payout]:
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(Payout)
                    .where(Payout.status.in_(("planned", "sending")))
                    .order_by(Payout.id)
                )
            )

    def producer_address(self, producer_id: str) -> str | None:
        """The paymentIdOrAddress of the producer's latest output message."""
        with self.sessions() as session:
            return session.scalars(
                select(ProducerSlice.payment_address)
                .where(ProducerSlice.producer_id == producer_id)
                .where(ProducerSlice.payment_address.is_not(None))
                .order_by(ProducerSlice.slice_start.desc(), ProducerSlice.received_at.desc())
                .limit(1)
            ).first()

    def mark_payout(self, payout_id: int, **values: Any) -> None:
        with self.sessions.begin() as session:
            session.execute(update(Payout).where(Payout.id == payout_id).values(**values))
            if values.get("status") == "sent":
                self._audit(session, "payout", payout_id)

    # -- what the books show -------------------------------------------------

    def accounts(self) -> dict[str, Any]:
        """``GET /accounts``: totals, consumers and producers (tokens and kWh)."""
        with self.sessions() as session:
            return reports.accounts(session)

    def slice_prices(self, limit: int = 100) -> list[dict[str, Any]]:
        """``GET /prices``: the last ``limit`` settled slices, oldest first."""
        with self.sessions() as session:
            return reports.slice_prices(session, limit)
