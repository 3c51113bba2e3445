"""The *buyer* role of the machine kit: a party that publishes the energy it used per slice,
reads the grid's payment requests on the return channel the grid answered its
registration with, and pays each exactly once (the consumer; a battery when it charges).

Paying is a small state machine in the database, so a SIGKILL at any moment pays nothing
twice:

    new --(newer request arrives first)--> superseded   (owed is a running total: the
    new --(owed is 0)--> nothing                          newest request covers older ones)
    new --> sending --(signed transfer stored)--> sent --(milestone)--> confirmed
    new --> unpayable (paymentIdOrAddress is not an address this wallet can pay)

``sending`` is committed *before* the transfer is signed. A request found in ``sending``
after a restart is first looked up on the tangle (a value transfer to its address, which
the grid made fresh for that request): found, it is ``sent``; not found, it never left the
process and is sent now. When the wallet cannot pay, the buyer asks the devnet faucet for
FAUCET_AMOUNT tokens (at most every FAUCET_INTERVAL seconds) and tries again.

The tables keep the consumer's names (``consumer_*``, store ``consumer``), so a consumer's
database made before the kit upgrades unchanged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import httpx
from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field, SecretStr, field_validator
from sqlalchemy import BigInteger, Float, Integer, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from shared.db import run_db
from shared.energy.client import RegistrationAnswer
from shared.energy.follower import HelloMissing
from shared.energy.messages import EnergyMessage, PaymentRequest, Usage
from shared.energy.models import EnergyBase, utcnow
from shared.energy.service import EnergyServiceSettings
from shared.energy.slices import Slice
from shared.iota.transaction import parse_many
from shared.mam.errors import NodeApiError
from shared.migrations import Store, upgrade
from shared.retry import Backoff

if TYPE_CHECKING:
    from shared.energy.party import Party

__all__ = [
    "RETURN_CHANNEL",
    "STORE",
    "Buyer",
    "BuyerDep",
    "BuyerSettings",
    "PaymentRow",
    "UsageRecord",
    "buyer_router",
]

log = logging.getLogger("energy.buyer")

RETURN_CHANNEL = "grid-return"
PAYMENT_TAG = "P9TO9P9ENERGY9POC"


class BuyerSettings(EnergyServiceSettings):
    """EnergyServiceSettings plus the faucet a buyer tops itself up from."""

    faucet_url: str | None = Field(
        None, pattern=r"^https?://", description="devnet faucet (POST {url}/faucet) for top-ups"
    )
    faucet_token: SecretStr | None = Field(None, description="bearer token of the faucet")
    faucet_amount: int = Field(10_000, gt=0, le=10**12, description="tokens asked per top-up")
    faucet_interval: float = Field(
        20.0, ge=0, le=86_400, description="least seconds between two top-ups"
    )

    @field_validator("faucet_token")
    @classmethod
    def _empty_is_none(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value() else None


class UsageRecord(EnergyBase):
    """The usage (kWh) the buyer published for one slice."""

    __tablename__ = "consumer_usage"

    start_time: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    end_time: Mapped[int] = mapped_column(BigInteger)
    usage: Mapped[float] = mapped_column(Float)


class PaymentRow(EnergyBase):
    """A payment request read from the grid's return channel, and what became of it."""

    __tablename__ = "consumer_payment_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owed: Mapped[int] = mapped_column(BigInteger)
    usage: Mapped[float] = mapped_column(Float)
    address: Mapped[str] = mapped_column(String(256))
    state: Mapped[str] = mapped_column(String(16), index=True, default="new")
    amount: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    bundle: Mapped[str | None] = mapped_column(String(81), nullable=True)
    tail: Mapped[str | None] = mapped_column(String(81), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(256), nullable=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "owed": self.owed,
            "usage": self.usage,
            "paymentIdOrAddress": self.address,
            "state": self.state,
            "amount": self.amount,
            "bundle": self.bundle,
            "tail": self.tail,
            "reason": self.reason,
            "receivedAt": self.received_at.isoformat() if self.received_at else None,
        }


def _is_address(value: str) -> bool:
    return len(value) in (81, 90) and all(c in "9ABCDEFGHIJKLMNOPQRSTUVWXYZ" for c in value)


# The buyer's own tables (consumer_*, on EnergyBase): shared/energy/migrations/buyer.
STORE = Store(
    "consumer",
    Path(__file__).parent / "migrations" / "buyer",
    EnergyBase.metadata,
    prefixes=("consumer_",),
)


class Buyer:
    """The buyer role of ``party`` (see the module docstring); the party's settings are a
    :class:`BuyerSettings`. Its tasks: ``read_requests`` and ``pay``."""

    def __init__(self, party: Party, settings: BuyerSettings) -> None:
        self.party = party
        self.settings = settings
        self.sessions = party.sessions
        upgrade(party.engine, STORE)  # the role's own tables, in the party's database
        self.node = party.node
        self.follower = party.follower
        self.wallet: Any = None  # the party's, set by the lifespan (see ``_wallet``)
        self.following = asyncio.Event()
        self.payable = asyncio.Event()
        self.last_top_up = 0.0
        self.top_ups = 0
        party.on_registered.append(self.follow)
        party.channel_fields.append(self.channel_fields)

    @property
    def _wallet(self) -> Any:
        return self.wallet if self.wallet is not None else self.party.wallet

    # -- usage ----------------------------------------------------------------

    def usage(self, session: Session, period: Slice, kwh: float) -> Usage:
        """Record ``kwh`` used in ``period`` and the message that says it (in the
        transaction that publishes it)."""
        session.merge(UsageRecord(start_time=period.start, end_time=period.end, usage=kwh))
        return Usage(period.start, period.end, kwh)

    # -- the return channel ----------------------------------------------------

    async def follow(self, answer: RegistrationAnswer | None) -> None:
        """Follow the return channel the grid answered with (or the one stored)."""
        if answer is None or answer.root is None:
            record = await run_db(self.party.participant.record)
            if record.answer_root is None:
                log.error("event=no_return_channel grid=%s", self.settings.grid_url)
                return
            root, side_key = record.answer_root, record.answer_side_key
        else:
            root, side_key = answer.root, answer.side_key
        backoff = Backoff(0.3, 10.0)
        while True:
            try:
                await asyncio.to_thread(self.follower.start, RETURN_CHANNEL, root, side_key)
                break
            except (HelloMissing, NodeApiError) as error:
                log.warning("event=return_channel_not_ready reason=%s", str(error)[:160])
                await backoff.sleep()
        self.following.set()
        log.info("event=following_return_channel root=%s", root)

    def _handle(self, session: Session, registration_id: str, message: EnergyMessage) -> None:
        if isinstance(message, PaymentRequest):
            session.add(
                PaymentRow(
                    owed=message.owed,
                    usage=message.usage,
                    address=message.payment_id_or_address,
                    state="new",
                )
            )
            log.info(
                "event=payment_request owed=%d usage=%s address=%s",
                message.owed,
                message.usage,
                message.payment_id_or_address[:12],
            )
        else:
            log.info("event=return_message_ignored command=%s", type(message).__name__)

    async def read_requests(self) -> None:
        await self.following.wait()
        while True:
            try:
                result = await asyncio.to_thread(self.follower.poll, RETURN_CHANNEL, self._handle)
                if result.handled:
                    self.payable.set()
            except NodeApiError as error:
                log.warning("event=request_poll_failed error=%s", str(error)[:200])
            await asyncio.sleep(self.settings.poll_seconds)

    def channel_fields(self) -> dict[str, Any]:
        record = self.party.participant.record()
        position = self.follower.position(RETURN_CHANNEL)
        return {
            "returnRoot": record.answer_root,
            "followingReturnChannel": position is not None and not position.closed,
        }

    # -- paying ------------------------------------------------------------------

    def find_payment(self, address: str) -> tuple[str, str] | None:
        """(bundle, tail) of a value transfer already on the tangle to ``address``."""
        hashes = self.node.find_transactions([address[:81]])
        if not hashes:
            return None
        for tx in parse_many(self.node.get_trytes(hashes)).transactions:
            if tx.address == address[:81] and tx.value > 0:
                if tx.current_index == 0:
                    return tx.bundle, tx.hash
                bundle = self.node.call("findTransactions", bundles=[tx.bundle])["hashes"]
                for part in parse_many(self.node.get_trytes(bundle)).transactions:
                    if part.current_index == 0:
                        return tx.bundle, part.hash
        return None

    def _set(self, row_id: int, **values: Any) -> None:
        with self.sessions.begin() as session:
            session.execute(update(PaymentRow).where(PaymentRow.id == row_id).values(**values))

    def pay_next(self) -> str:
        """Handle the next open request; what happened ("idle", "paid", "funds", ...)."""
        from shared.iota.wallet import InsufficientFunds, WalletError

        with self.sessions.begin() as session:
            open_rows = list(
                session.scalars(
                    select(PaymentRow)
                    .where(PaymentRow.state.in_(("new", "sending")))
                    .order_by(PaymentRow.id)
                )
            )
            if not open_rows:
                return "idle"
            sending = [row for row in open_rows if row.state == "sending"]
            if sending:
                target, resume = sending[0], True
            else:
                target, resume = open_rows[-1], False
                older = [row.id for row in open_rows if row.id != target.id]
                if older:
                    session.execute(
                        update(PaymentRow)
                        .where(PaymentRow.id.in_(older))
                        .values(state="superseded", amount=0)
                    )
                if not _is_address(target.address):
                    target.state, target.reason = "unpayable", "paymentIdOrAddress is no address"
                    return "unpayable"
                if target.owed <= 0:
                    target.state, target.amount = "nothing", 0
                    return "nothing"
                # Committed before signing: a crash from here on is resolved on the tangle.
                target.state, target.amount = "sending", target.owed
            row_id, amount, address = target.id, int(target.amount or target.owed), target.address
        if resume:
            found = self.find_payment(address)
            if found is not None:
                self._set(row_id, state="sent", bundle=found[0], tail=found[1], sent_at=utcnow())
                log.info("event=payment_recovered request=%d amount=%d", row_id, amount)
                return "paid"
        try:
            result = self._wallet.send(amount, address[:81], tag=PAYMENT_TAG)
        except InsufficientFunds as error:
            # Nothing was signed: the request is open again.
            self._set(row_id, state="new")
            log.warning("event=payment_waits_for_funds request=%d need=%d", row_id, error.required)
            return "funds"
        except WalletError as error:
            if type(error).__name__ == "NodeError":
                return "node"  # maybe stored, maybe not: stays 'sending', looked up next time
            self._set(row_id, state="unpayable", reason=str(error)[:250])
            return "unpayable"
        self._set(
            row_id, state="sent", bundle=result.bundle_hash, tail=result.tail_hash, sent_at=utcnow()
        )
        log.info(
            "event=payment_sent request=%d amount=%d to=%s bundle=%s",
            row_id,
            amount,
            address[:12],
            result.bundle_hash,
        )
        return "paid"

    def confirm_sent(self) -> int:
        with self.sessions() as session:
            rows = list(session.scalars(select(PaymentRow).where(PaymentRow.state == "sent")))
        confirmed = 0
        for row in rows:
            if row.tail and self._wallet.is_confirmed(row.tail):
                self._set(row.id, state="confirmed")
                confirmed += 1
        return confirmed

    async def top_up(self) -> None:
        settings = self.settings
        if settings.faucet_url is None:
            log.warning("event=cannot_pay reason=no_funds_and_no_FAUCET_URL")
            return
        if time.monotonic() - self.last_top_up < settings.faucet_interval and self.top_ups:
            return
        self.last_top_up = time.monotonic()
        address = await asyncio.to_thread(self._wallet.new_address, "faucet top-up")
        headers = {}
        if settings.faucet_token is not None:
            headers["Authorization"] = f"Bearer {settings.faucet_token.get_secret_value()}"
        try:
            async with httpx.AsyncClient(timeout=60) as client:
                reply = await client.post(
                    settings.faucet_url.rstrip("/") + "/faucet",
                    json={"address": address, "value": settings.faucet_amount},
                    headers=headers,
                )
        except httpx.HTTPError as error:
            log.warning("event=top_up_failed error=%s", type(error).__name__)
            return
        if reply.status_code >= 400:
            log.warning(
                "event=top_up_refused status=%d body=%s", reply.status_code, reply.text[:200]
            )
            return
        self.top_ups += 1
        log.info("event=top_up value=%d address=%s", settings.faucet_amount, address[:12])

    async def pay(self) -> None:
        backoff = Backoff(0.5, 10.0)
        while True:
            try:
                outcome = await asyncio.to_thread(self.pay_next)
            except NodeApiError as error:
                log.warning("event=payment_lookup_failed error=%s", str(error)[:200])
                outcome = "node"
            if outcome in ("paid", "nothing", "unpayable"):
                backoff.reset()
                self.party.poke_balance()
                continue
            if outcome == "funds":
                await self.top_up()
            if outcome == "idle":
                backoff.reset()
                try:
                    await asyncio.to_thread(self.confirm_sent)
                except Exception as error:
                    log.warning("event=confirm_failed error=%s", type(error).__name__)
                self.payable.clear()
                with suppress(TimeoutError):
                    await asyncio.wait_for(self.payable.wait(), 2.0)
                continue
            await backoff.sleep()

    # -- views --------------------------------------------------------------------

    def recent_usage(self, limit: int) -> list[dict[str, Any]]:
        with self.sessions() as session:
            rows = session.scalars(
                select(UsageRecord).order_by(UsageRecord.start_time.desc()).limit(limit)
            )
            return [
                {"startTime": r.start_time, "endTime": r.end_time, "usage": r.usage}
                for r in reversed(list(rows))
            ]

    def payments(self, limit: int) -> list[dict[str, Any]]:
        with self.sessions() as session:
            rows = session.scalars(select(PaymentRow).order_by(PaymentRow.id.desc()).limit(limit))
            return [row.public() for row in reversed(list(rows))]

    def paid_total(self) -> int:
        with self.sessions() as session:
            rows = session.scalars(
                select(PaymentRow.amount).where(PaymentRow.state.in_(("sent", "confirmed")))
            )
            return sum(int(a or 0) for a in rows)


def _buyer(request: Request) -> Buyer:
    buyer: Buyer = request.app.state.buyer
    return buyer


BuyerDep = Annotated[Buyer, Depends(_buyer)]

# GET /usage and /payments; the app sets ``app.state.buyer``.
buyer_router = APIRouter()


@buyer_router.get("/usage")
async def usage(buyer: BuyerDep, limit: int = Query(50, ge=1, le=500)) -> dict[str, Any]:
    """The recent usage per slice (kWh)."""
    return {"usage": await run_db(buyer.recent_usage, limit)}


@buyer_router.get("/payments")
async def payments(buyer: BuyerDep, limit: int = Query(50, ge=1, le=500)) -> dict[str, Any]:
    """Payment requests read from the grid and what was paid for each."""
    return {
        "paid": await run_db(buyer.paid_total),
        "requests": await run_db(buyer.payments, limit),
    }
