"""The grid's background work, each part a loop under shared.tasks.Supervisor:

- ``reader``: reads every followed channel (producers' output, consumers' usage);
- ``settler``: prices each slice once it ended (plus SETTLE_DELAY_SECONDS), bills the
  consumers and queues their ``payment-request`` messages;
- ``attacher``: attaches the queued messages (whatever a crash left too), so the next
  slice is billed on time even while the proof of work of the last one runs;
- ``payments``: watches the node's ZMQ ``tx`` feed for transfers to request addresses,
  with a periodic scan of those addresses for anything the feed missed;
- ``confirmer``: asks the node which seen payments a milestone confirmed, then books
  the cut and plans the producers' payouts;
- ``payouts``: sends planned payouts exactly once (see :meth:`GridSettlement.send_payout`);
- ``balance``: keeps the wallet's confirmed balance for ``GET /``;
- ``address-pool``: keeps ADDRESS_POOL_SIZE fresh wallet addresses derived ahead
  (:meth:`shared.iota.wallet.Wallet.fill_pool`), so settling a slice does not wait
  for a key derivation and a node check per consumer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

from services.grid.bookkeeping import GridBooks
from services.grid.db import Payout
from services.grid.settings import GridSettings
from shared.db import run_db
from shared.energy.channels import ChannelBook
from shared.energy.follower import ChannelFollower
from shared.energy.models import utcnow
from shared.energy.slices import Slice, now_ms, slice_at
from shared.iota.text import text_to_trytes
from shared.iota.transaction import parse_many
from shared.iota.validation import InvalidTrytes, validate_address
from shared.iota.wallet import InsufficientFunds, Wallet, WalletError
from shared.iota.zmq_feed import ZmqFeed
from shared.iota.zmq_lines import LatestMilestoneIndex, TransactionSeen
from shared.mam.tangle import NodeApi

__all__ = ["PAYOUT_TAG", "GridSettlement"]

log = logging.getLogger("services.grid.settlement")

PAYOUT_TAG = "GRID9PAYOUT"
# Payment requests per billing transaction: the first ones are attached while the rest
# are signed (see GridBooks.settle).
BILL_CHUNK = 20
# Addresses per findTransactions call of the fallback scan (IRI's maxRequestsList is 1000).
_SCAN_CHUNK = 500


@dataclass(eq=False)
class GridSettlement:
    """Owns the loops; every database step goes through :class:`GridBooks` in a thread."""

    settings: GridSettings
    books: GridBooks
    follower: ChannelFollower
    book: ChannelBook
    wallet: Wallet
    node: NodeApi
    balance: int | None = field(default=None, init=False)
    _addresses: dict[str, str] = field(default_factory=dict, init=False)
    _milestone: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _payments_seen: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _pool_used: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _queued: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _confirmed: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    last_settle_timing: dict[str, float] = field(default_factory=dict, init=False)
    # when this process started: opens the grace window of slices that ended before
    started_ms: int = field(default_factory=now_ms, init=False)

    # -- reading channels ----------------------------------------------------

    async def read_once(self) -> int:
        """Read every open channel once (all of them per node call); messages handled."""
        try:
            return await asyncio.to_thread(self.follower.poll_all, self.books.handle_message)
        except Exception as error:
            log.warning(
                "event=channels_read_failed error=%s", f"{type(error).__name__}: {error}"[:200]
            )
            return 0

    async def run_reader(self) -> None:
        while True:
            await self.read_once()
            await asyncio.sleep(self.settings.poll_seconds)

    # -- settling slices -----------------------------------------------------

    def due_slices(self, now: int) -> list[Slice]:
        """Slices to price now, oldest first: ended at least SETTLE_DELAY_SECONDS ago, not
        settled yet, and with the quotes of every producer registered for them in (or
        QUOTE_GRACE_SECONDS past their end: then they are priced without the missing
        quotes, which the slice's record and the log name). Slices are settled in order,
        so the first one still waiting holds back the ones after it.

        The grace window opens at the slice's end or at the grid's start, whichever is
        later: a slice settled late after a crash is priced by the same rule, the
        producers' quotes read first, never at a fallback price because time passed while
        the grid was down.

        The first run starts with the slice just ended: usage from before the grid
        existed is still billed (with that slice), nothing older is priced.
        """
        cutoff = now - round(self.settings.settle_delay_seconds * 1000)
        newest = slice_at(cutoff, self.settings.slice_seconds).previous()
        last = self.books.last_settled()
        ended: list[Slice] = []
        if last is None:
            ended = [newest]
        else:
            current = slice_at(last.end, self.settings.slice_seconds)
            while current.end <= newest.end and len(ended) < 1000:
                ended.append(current)
                current = current.next()
        grace = self.settings.quote_grace_ms()
        due: list[Slice] = []
        for slot in ended:
            if now < max(slot.end, self.started_ms) + grace and self.books.missing_quotes(slot):
                break  # its quotes are on their way: wait (the reader books them)
            due.append(slot)
        return due

    async def settle_once(self, now: int | None = None, *, attach: bool = True) -> int:
        """Read channels, settle every due slice and (``attach``) attach its requests;
        requests made. Without ``attach`` the ``attacher`` loop attaches them. Either way
        attaching starts with the first committed chunk of BILL_CHUNK requests: the
        node's proof of work overlaps the signing of the rest."""
        due = await run_db(self.due_slices, now_ms() if now is None else now)
        made = 0
        if not due:
            return 0
        loop = asyncio.get_running_loop()

        def committed() -> None:
            loop.call_soon_threadsafe(self._queued.set)

        started, cpu = time.perf_counter(), time.process_time()
        await self.read_once()
        timing = {"read": time.perf_counter() - started, "addresses": 0.0, "bill": 0.0}
        billed = asyncio.Event()
        attaching = asyncio.create_task(self._attach_until(billed)) if attach else None
        try:
            for slot in due:
                step = time.perf_counter()
                consumers = await run_db(self.books.consumers_to_bill, slot)
                addresses = await asyncio.to_thread(self._new_addresses, consumers)
                self._pool_used.set()
                timing["addresses"] += time.perf_counter() - step
                step = time.perf_counter()
                settled = await run_db(
                    self.books.settle,
                    slot,
                    addresses,
                    self.book,
                    chunk=BILL_CHUNK,
                    committed=committed,
                )
                timing["bill"] += time.perf_counter() - step
                made += settled.requests
                if settled.requests:
                    self._addresses = await run_db(self.books.request_addresses)
        finally:
            billed.set()
            self._queued.set()
            if attaching is not None:
                step = time.perf_counter()
                await attaching
                timing["attach after billing"] = time.perf_counter() - step
        timing["total"] = time.perf_counter() - started
        # the process's CPU (other loops included): wall time alone misleads on a busy host
        timing["cpu"] = time.process_time() - cpu
        log.log(
            logging.INFO if made else logging.DEBUG,
            "event=settle_timing slices=%d requests=%d %s",
            len(due),
            made,
            " ".join(
                f"{name.replace(' ', '_')}_ms={round(value * 1000)}"
                for name, value in timing.items()
            ),
        )
        self.last_settle_timing = timing
        return made

    async def _attach_until(self, billed: asyncio.Event) -> None:
        """Attach queued requests as chunks commit, until billing is over and all are."""
        while True:
            finished = billed.is_set()
            await asyncio.to_thread(self.book.flush, self.settings.attach_concurrency)
            if finished:
                return
            await self._queued.wait()
            self._queued.clear()

    def _new_addresses(self, consumers: list[str]) -> dict[str, str]:
        """A fresh address per consumer, from the wallet's pool while it lasts."""
        purposes = [f"payment-request {consumer}"[:200] for consumer in consumers]
        # Held: never an input while a consumer may still pay it; swept once at expiry.
        until = time.time() + self.settings.payment_address_hold_seconds
        addresses = self.wallet.new_addresses(purposes, reserve=True, hold_until=until)
        return dict(zip(consumers, addresses, strict=True))

    async def run_address_pool(self) -> None:
        while True:
            await asyncio.to_thread(self.wallet.fill_pool, self.settings.address_pool_size)
            # refill as soon as a settle took some; look again now and then anyway
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._pool_used.wait(), timeout=30.0)
            self._pool_used.clear()

    async def run_settler(self) -> None:
        self._addresses = await run_db(self.books.request_addresses)
        await asyncio.to_thread(self.book.warm)
        tick = min(0.25, self.settings.slice_seconds / 4)
        while True:
            if await self.settle_once(attach=False):
                # the next slice's messages: their keys derived now, not while it is billed
                await asyncio.to_thread(self.book.warm)
            await asyncio.sleep(tick)

    async def run_attacher(self) -> None:
        while True:
            # whatever is queued: a settle's requests, or what a crash left
            started = time.perf_counter()
            attached = await asyncio.to_thread(self.book.flush, self.settings.attach_concurrency)
            if attached:
                log.info(
                    "event=requests_attached count=%d ms=%d",
                    attached,
                    round((time.perf_counter() - started) * 1000),
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queued.wait(), timeout=5.0)
            self._queued.clear()

    # -- payments ------------------------------------------------------------

    async def run_payment_feed(self) -> None:
        async with ZmqFeed(self.settings.iota_zmq_url, ("tx", "lmi")) as feed:
            async for event in feed:
                if isinstance(event, LatestMilestoneIndex):
                    self._milestone.set()
                elif (
                    isinstance(event, TransactionSeen)
                    and event.value > 0
                    and event.address in self._addresses
                    and await run_db(
                        self.books.record_payment,
                        event.bundle,
                        event.address,
                        event.hash,
                        event.value,
                    )
                ):
                    self._payments_seen.set()

    def scan_payments(self) -> int:
        """Find value transfers to request addresses on the node (what ZMQ may have missed)."""
        addresses = sorted(self._addresses)
        found = 0
        for first in range(0, len(addresses), _SCAN_CHUNK):
            hashes = self.node.find_transactions(addresses[first : first + _SCAN_CHUNK])
            if not hashes:
                continue
            batch = parse_many(self.node.get_trytes(hashes))
            for tx in batch.transactions:
                if tx.value > 0 and tx.address in self._addresses:
                    found += self.books.record_payment(tx.bundle, tx.address, tx.hash, tx.value)
        return found

    async def run_payment_scan(self) -> None:
        while True:
            self._addresses = await run_db(self.books.request_addresses)
            if await asyncio.to_thread(self.scan_payments):
                self._payments_seen.set()
            await asyncio.sleep(self.settings.payment_scan_seconds)

    async def confirm_once(self) -> int:
        confirmed = 0
        for payment_id, tx_hash, address in await run_db(self.books.pending_payments):
            if await asyncio.to_thread(self.wallet.is_confirmed, tx_hash):
                # swept (or spent) already? then only what the sweep moved can count
                spent, cap = await asyncio.to_thread(self.wallet.sweep_state, address)
                if await run_db(self.books.confirm_payment, payment_id, spent=spent, cap=cap):
                    confirmed += 1
        if confirmed:
            self._confirmed.set()  # payouts are planned: the payouts loop goes now
        return confirmed

    async def run_confirmer(self) -> None:
        while True:
            await self.confirm_once()
            # a milestone (or a new payment) wakes us; poll anyway in case ZMQ is down
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._milestone.wait(), timeout=1.0)
            self._milestone.clear()

    # -- payouts -------------------------------------------------------------

    def marker(self, payout_id: int) -> str:
        """The message of a payout's transfer: how it is found on the tangle after a crash."""
        return f"grid {self.settings.name} payout {payout_id}"

    def find_sent(self, payout: Payout) -> str | None:
        """The tail hash of this payout's transfer if it is on the tangle, else None."""
        if payout.address is None:
            return None
        wanted = text_to_trytes(self.marker(payout.id))
        hashes = self.node.find_transactions([payout.address])
        if not hashes:
            return None
        bundles = {
            tx.bundle
            for tx in parse_many(self.node.get_trytes(hashes)).transactions
            if tx.value == payout.amount and tx.signature_message_fragment.startswith(wanted)
        }
        for bundle in sorted(bundles):
            tails = self.node.call("findTransactions", bundles=[bundle]).get("hashes", [])
            for tx in parse_many(self.node.get_trytes(list(tails))).transactions:
                if tx.current_index == 0:
                    return tx.hash
        return None

    def send_payout(self, payout: Payout) -> bool:
        """Pay one producer exactly once; True when sent (now or before a crash).

        ``sending`` is committed before the wallet signs. A payout found ``sending`` (the
        grid died during a send) is looked up on the tangle by its marker first and only
        sent again if it is not there: the node stores a bundle before the wallet
        returns, so a transfer that is not on our node after a restart never left.
        """
        if payout.status == "sending":
            tail = self.find_sent(payout)
            if tail is not None:
                self.books.mark_payout(payout.id, status="sent", tail_hash=tail, sent_at=utcnow())
                log.info("event=payout_reconciled id=%d tail=%s", payout.id, tail)
                return True
        address = self.books.producer_address(payout.producer_id)
        if address is None:
            return False
        try:
            address = validate_address(address, for_value=True)[:81]
        except InvalidTrytes:
            self.books.mark_payout(
                payout.id, last_error="the producer's paymentIdOrAddress is not an IOTA address"
            )
            return False
        self.books.mark_payout(
            payout.id, status="sending", address=address, attempts=payout.attempts + 1
        )
        log.info(
            "event=payout_sending id=%d producer=%s amount=%d",
            payout.id,
            payout.producer_id,
            payout.amount,
        )
        result = self.wallet.send(
            payout.amount, address, tag=PAYOUT_TAG, message=self.marker(payout.id)
        )
        self.books.mark_payout(
            payout.id, status="sent", tail_hash=result.tail_hash, sent_at=utcnow(), last_error=None
        )
        log.info(
            "event=producer_paid id=%d producer=%s amount=%d tail=%s",
            payout.id,
            payout.producer_id,
            payout.amount,
            result.tail_hash,
        )
        return True

    def pay_once(self) -> int:
        self.books.assign_waiting()
        sent = 0
        payouts = self.books.open_payouts()
        # Paid from what the wallet can spend: request addresses are held until they are
        # swept, so a payout may wait for the sweep (and its milestone).
        available = self.wallet.spendable_balance() if payouts else 0
        for payout in payouts:
            if payout.status == "planned" and payout.amount > available:
                break
            available -= payout.amount
            try:
                sent += self.send_payout(payout)
            except InsufficientFunds as error:
                # the change of the last payout waits for a milestone: try again soon
                self.books.mark_payout(payout.id, last_error=str(error)[:300])
                break
            except WalletError as error:
                self.books.mark_payout(payout.id, last_error=str(error)[:300])
                log.warning("event=payout_failed id=%d error=%s", payout.id, str(error)[:200])
                break
        return sent

    async def run_payouts(self) -> None:
        while True:
            self._confirmed.clear()
            await asyncio.to_thread(self.pay_once)
            # at the latest every PAYOUT_INTERVAL_SECONDS, at once when a payment confirms
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._confirmed.wait(), timeout=self.settings.payout_interval_seconds
                )

    def sweep_once(self) -> dict[str, int]:
        """Sweep the request addresses whose hold ended (each once, journaled by the
        wallet); one with a payment seen but not confirmed yet waits for it."""
        swept = self.wallet.sweep_due(skip=self.books.pending_addresses())
        if swept:
            log.info(
                "event=request_addresses_swept count=%d tokens=%d",
                len(swept),
                sum(swept.values()),
            )
        return swept

    async def run_sweeper(self) -> None:
        while True:
            await asyncio.to_thread(self.sweep_once)
            await asyncio.sleep(self.settings.payment_scan_seconds)

    async def run_balance(self) -> None:
        while True:
            self.balance = await asyncio.to_thread(self.wallet.balance)
            await asyncio.sleep(5.0)
