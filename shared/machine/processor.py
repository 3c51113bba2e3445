"""The order processor every machine runs: one order at a time, from payment to work done.

Robot: waiting_for_tx -> waiting_for_tx_confirm -> payout_provider -> working -> waiting_for_order
Provider: waiting_for_tx -> waiting_for_tx_confirm -> working -> waiting_for_order

Each step is committed to the order store before it is announced, and the loop always starts
from what the store says, so a machine killed at any point picks its order up where it was.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from shared.db import run_db
from shared.iota.payments import allocate
from shared.machine.broadcaster import StatusBroadcaster
from shared.machine.config import MachineConfig
from shared.machine.ports import ProviderLink, WalletLike
from shared.machine.requests import EnergyOrderRequest, OrderRejected, OrderRequest
from shared.machine.status import MachineStatus, OrderState
from shared.machine.store import Order, OrderStore
from shared.machine.sweeper import HeldAddressSweeper
from shared.machine.watcher import AddressWatch, PaymentWatcher
from shared.retry import Backoff

if TYPE_CHECKING:
    from shared.machine.rental import ToolRental

__all__ = ["MachineConfig", "OrderProcessor", "ProviderLink", "WalletLike"]

log = logging.getLogger("machine.orders")


class OrderProcessor(HeldAddressSweeper):
    """Accepts orders and serves them one after the other."""

    def __init__(
        self,
        config: MachineConfig,
        store: OrderStore,
        wallet: WalletLike,
        watcher: PaymentWatcher,
        broadcaster: StatusBroadcaster,
        provider: ProviderLink | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.wallet = wallet
        self.watcher = watcher
        self.broadcaster = broadcaster
        self.provider = provider
        self._wakeup = asyncio.Event()
        # Set when an order is taken or ends: the sweeper's passes come quickly again.
        self._stirred = asyncio.Event()
        self._submit_lock = asyncio.Lock()
        self._idle_message = "ready for orders"
        self.current_order_id: str | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._energy_requests: dict[str, asyncio.Task[tuple[str, int]]] = {}
        # Who placed each open order: (connection id, client address), for the limits.
        self._owners: dict[str, tuple[str | None, str | None]] = {}
        # Payment channels (shared/machine/channel_payment.py), set by the app when used:
        # a robot pays its provider off-ledger; a provider counts off-ledger payments.
        self.channel_payer: Callable[[str, int], Awaitable[str]] | None = None
        self.paid_off_ledger: Callable[[str], int] | None = None
        # A robot that rents a tool of the lock for each product (RENT_TOOL_URL).
        self.tool_rental: ToolRental | None = None

    # ---- taking orders -------------------------------------------------------------------

    def _check_client_limits(self, connection: str | None, client_address: str | None) -> None:
        """Refuse a client that already has as many open orders as it may have."""
        limits = (
            (0, connection, self.config.max_orders_per_connection, "connection"),
            (1, client_address, self.config.max_orders_per_address, "client address"),
        )
        for position, who, limit, what in limits:
            if who is None or limit <= 0:
                continue
            mine = sum(1 for owner in self._owners.values() if owner[position] == who)
            if mine >= limit:
                raise OrderRejected(
                    f"{self.config.name} takes at most {limit} open orders per {what}, and "
                    f"you have {mine}; pay for them or let them expire, then order again"
                )

    async def submit_order(
        self,
        request: OrderRequest,
        *,
        connection: str | None = None,
        client_address: str | None = None,
    ) -> dict[str, Any]:
        """A customer's order: a fresh address and the price, served in turn (or refused).

        ``connection`` (the Socket.IO session) and ``client_address`` (its IP) count
        against the per-client limits; the order's deadline runs from now, queued or not.
        """
        async with self._submit_lock:
            self._check_client_limits(connection, client_address)
            waiting = await run_db(self.store.count_unfinished)
            if waiting > self.config.max_queue:
                raise OrderRejected(
                    f"{self.config.name} is busy and its queue is full "
                    f"({self.config.max_queue} waiting); try again later"
                )
            # Reserved: no payout spends it while the order is open (issue 14).
            address = await asyncio.to_thread(self.wallet.new_address, "order", reserve=True)
            order = await run_db(
                self.store.create,
                kind="product",
                product=request.product,
                customer=request.customer,
                price=self.config.price,
                address=address,
                deadline=time.time() + self.config.order_timeout,
            )
            if connection is not None or client_address is not None:
                self._owners[order.id] = (connection, client_address)
        log.info("event=order_accepted order_id=%s position=%d", order.id, waiting)
        self._wakeup.set()
        self._stirred.set()
        if waiting:
            message = (
                f"{self.config.name} is busy; your order is number {waiting} in the queue. "
                f"Pay {order.price}i to {order.address} and it is served in turn."
            )
        else:
            message = f"send {order.price}i to {order.address}"
        return {
            "order_id": order.id,
            "address": order.address,
            "price": order.price,
            "state": OrderState.QUEUED.value if waiting else OrderState.WAITING_FOR_TX.value,
            "position": waiting,
            "message": message,
        }

    async def submit_energy_order(self, request: EnergyOrderRequest) -> Order:
        """A robot's energy order; idempotent on order_id so a robot may safely retry."""
        async with self._submit_lock:
            existing = await run_db(self.store.get, request.order_id)
            if existing is not None:
                if existing.customer != request.robot or existing.price != request.amount:
                    raise OrderRejected(
                        f"order {request.order_id} exists with another robot or amount"
                    )
                return existing
            if request.amount < self.config.price:
                raise OrderRejected(
                    f"{self.config.name} sells energy for at least {self.config.price}i, "
                    f"offered {request.amount}i"
                )
            if await run_db(self.store.count_unfinished) > self.config.max_queue:
                raise OrderRejected(f"{self.config.name} is busy and its queue is full")
            address = await asyncio.to_thread(self.wallet.new_address, "energy", reserve=True)
            order = await run_db(
                self.store.create,
                kind="energy",
                product="energy",
                customer=request.robot,
                price=request.amount,
                address=address,
                order_id=request.order_id,
                deadline=time.time() + self.config.order_timeout,
            )
        log.info("event=energy_order_accepted order_id=%s amount=%d", order.id, order.price)
        self._wakeup.set()
        self._stirred.set()
        return order

    # ---- serving them --------------------------------------------------------------------

    async def run(self) -> None:
        """Serve orders forever (cancelled by the service's lifespan)."""
        try:
            await self._run()
        finally:
            for task in [*self._background, *self._energy_requests.values()]:
                task.cancel()

    async def _run(self) -> None:
        await self._release_settled_reservations()
        await self.refresh_balance()
        # After a failed order: a poll interval at first, longer while the failures go on.
        backoff = Backoff(self.config.poll_interval, 5 * self.config.poll_interval)
        while True:
            pending = await run_db(self.store.unfinished)
            if not pending:
                self.current_order_id = None
                if self.broadcaster.status != MachineStatus.WAITING_FOR_ORDER:
                    await self.broadcaster.announce(
                        MachineStatus.WAITING_FOR_ORDER, self._idle_message
                    )
                self._wakeup.clear()
                if await run_db(self.store.count_unfinished) == 0:
                    await self._wakeup.wait()
                continue
            order = pending[0]
            self.current_order_id = order.id
            try:
                await self._serve(order)
                # every order ends back in waiting_for_order, even when another one is queued
                # (the original robot never returned there)
                await self.broadcaster.announce(
                    MachineStatus.WAITING_FOR_ORDER, self._idle_message, order_id=order.id
                )
                backoff.reset()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                # a node outage or a database hiccup: keep the order, try again shortly
                log.exception("event=order_error order_id=%s error=%s", order.id, error)
                await backoff.sleep()

    async def _serve(self, order: Order) -> None:
        with self.watcher.watch(order.address) as watch:
            if order.state == OrderState.QUEUED:
                # The deadline runs from the order's creation: a queue of unpaid orders
                # drains in one ORDER_TIMEOUT, not one per order ahead.
                order = await run_db(
                    self.store.update,
                    order.id,
                    state=OrderState.WAITING_FOR_TX,
                    deadline=order.deadline or order.created_at + self.config.order_timeout,
                )
            if order.state == OrderState.WAITING_FOR_TX:
                await self._announce(
                    MachineStatus.WAITING_FOR_TX, order, f"send {order.price}i to {order.address}"
                )
                if not await self._wait_for_payment(order, watch):
                    await self._finish(
                        order, OrderState.EXPIRED, f"order {order.id} expired unpaid"
                    )
                    return
                order = await run_db(
                    self.store.update,
                    order.id,
                    state=OrderState.WAITING_FOR_TX_CONFIRM,
                    deadline=max(order.deadline or 0.0, time.time() + self.config.order_timeout),
                )
            if order.state == OrderState.WAITING_FOR_TX_CONFIRM:
                self._ask_provider_early(order)
                await self._announce(
                    MachineStatus.WAITING_FOR_TX_CONFIRM,
                    order,
                    "payment seen, waiting for a milestone to confirm it",
                )
                if not await self._wait_for_confirmation(order, watch):
                    early = self._energy_requests.pop(order.id, None)
                    if early is not None:
                        early.cancel()
                    await self._finish(
                        order, OrderState.EXPIRED, f"payment for {order.id} was not confirmed"
                    )
                    return
                next_state = OrderState.PAYOUT_PROVIDER if self.provider else OrderState.WORKING
                received = await self._received(order)
                order = await run_db(
                    self.store.update,
                    order.id,
                    state=next_state,
                    paid_at=time.time(),
                    received=received,
                    credit=allocate(received, [order.price]).excess,
                )
                # Paid: the address stays held (a customer may pay it again) until it
                # expires, ADDRESS_HOLD after the order ends, and is swept then.
                await self.refresh_balance()
        if order.state == OrderState.PAYOUT_PROVIDER:
            if self.provider is None:  # a provider never has one; only a config change gets here
                order = await run_db(self.store.update, order.id, state=OrderState.WORKING)
            else:
                value = order.payout_value or self.config.payout_for(order.price)
                await self._announce(
                    MachineStatus.PAYOUT_PROVIDER,
                    order,
                    f"paying {value}i to {self.provider.name}",
                )
                if not await self._pay_provider(order, value):
                    await self._finish(
                        order, OrderState.FAILED, f"could not pay {self.provider.name}"
                    )
                    return
                order = await run_db(self.store.update, order.id, state=OrderState.WORKING)
                await self.refresh_balance()
        if order.state == OrderState.WORKING:
            what = "delivering energy to " + (order.customer or "?")
            if order.kind == "product":
                what = f"making {order.product}"
            await self._announce(MachineStatus.WORKING, order, what)
            finished = f"order {order.id} finished"
            work = asyncio.sleep(self.config.work_seconds)
            if self.tool_rental is not None and order.kind == "product":
                # the tool's minutes are bought while the work runs (shared/machine/rental.py)
                rental = await self.tool_rental.use(order.id, work, self.config.work_seconds)
                finished += f"; tool {rental.tool_id}: paid {rental.paid}i in {rental.payments}"
                finished += f" payment(s), refused: {rental.refused}" if rental.refused else ""
            else:
                await work
            await self._finish(order, OrderState.DONE, finished)

    async def _announce(self, status: MachineStatus, order: Order, message: str) -> None:
        await self.broadcaster.announce(
            status, message, address=order.address, price=order.price, order_id=order.id
        )

    async def _finish(self, order: Order, state: OrderState, message: str) -> None:
        current = await run_db(self.store.get, order.id) or order
        received = current.received if current.swept else await self._received(current)
        # Earned only when served; the rest (all of it for an order that expired or
        # failed) is the payer's credit, shown on the order (shared/iota/payments.py).
        earned = current.price if state == OrderState.DONE else 0
        await run_db(
            self.store.update,
            order.id,
            state=state,
            finished_at=time.time(),
            message=message,
            received=received,
            credit=allocate(received, [earned]).excess,
        )
        # Held until it expires, then swept once (a payment after that is reported late).
        await asyncio.to_thread(
            self.wallet.hold, order.address, time.time() + self.config.address_hold
        )
        self._owners.pop(order.id, None)
        self._idle_message = message
        self._stirred.set()
        log.info("event=order_%s order_id=%s", state.value, order.id)

    async def _release_settled_reservations(self) -> None:
        """After a restart: start the hold of the addresses of orders that ended (a crash
        between storing an order's end and holding its address). Addresses held already
        or swept are left as they are."""
        open_orders = {o.address for o in await run_db(self.store.unfinished)}
        until = time.time() + self.config.address_hold
        held = set(await asyncio.to_thread(self.wallet.due_sweeps, float("inf")))
        for address in await asyncio.to_thread(self.wallet.reserved_addresses):
            if address not in open_orders and address not in held:
                await asyncio.to_thread(self.wallet.hold, address, until)

    async def _received(self, order: Order) -> int:
        """Confirmed tokens on the order's address (best effort: 0 if the node fails)."""
        try:
            return int(await asyncio.to_thread(self.wallet.address_balance, order.address))
        except Exception as error:
            log.warning("event=received_unknown order_id=%s error=%s", order.id, error)
            return order.received

    async def _ensure_funds(self, order: Order, value: int) -> Order:
        """Before paying the provider: if the wallet cannot spend ``value`` without this
        order's held money, sweep its address now (its hold ends early: a payment after
        that is reported late on the order)."""
        if order.swept:
            return order
        if await asyncio.to_thread(self.wallet.spendable_balance) >= value:
            return order
        moved = await asyncio.to_thread(self.wallet.sweep, order.address)
        if moved is None:
            moved = await asyncio.to_thread(self.wallet.swept_value, order.address)
        if moved is None:
            return order
        log.info(
            "event=order_address_swept order_id=%s value=%d reason=payout_needs_funds",
            order.id,
            moved,
        )
        return await run_db(
            self.store.update,
            order.id,
            swept=True,
            received=moved,
            credit=allocate(moved, [order.price]).excess,
        )

    async def _confirmed(self, order: Order) -> bool:
        if self.paid_off_ledger is not None:
            paid = await asyncio.to_thread(self.paid_off_ledger, order.id)
            if paid >= order.price:
                return True
        balance = await asyncio.to_thread(self.wallet.address_balance, order.address)
        if balance != order.received:
            # a partial payment is visible on the order while it waits (GET /orders/{id})
            await run_db(self.store.update, order.id, received=balance)
        return balance >= order.price

    async def _wait_for_payment(self, order: Order, watch: AddressWatch) -> bool:
        """True once value was seen (or is already confirmed); False at the deadline."""
        deadline = order.deadline or (time.time() + self.config.order_timeout)
        while True:
            if watch.seen_value > 0 or await self._confirmed(order):
                return True
            remaining = deadline - time.time()
            if remaining <= 0:
                return False
            await watch.wait_changed(min(self.config.poll_interval, remaining))

    async def _wait_for_confirmation(self, order: Order, watch: AddressWatch) -> bool:
        deadline = order.deadline or (time.time() + self.config.order_timeout)
        while True:
            if await self._confirmed(order):
                return True
            remaining = deadline - time.time()
            if remaining <= 0:
                return False
            await watch.wait_changed(min(self.config.poll_interval, remaining))

    async def _pay_provider(self, order: Order, value: int) -> bool:
        """Pay the provider exactly once, even across a crash in the middle of sending."""
        assert self.provider is not None
        deadline = time.time() + self.config.payout_timeout
        backoff = Backoff(initial=0.5, maximum=5.0)
        while True:
            try:
                started = time.perf_counter()
                if order.payout_address is None:
                    address, asked = await self._energy_request(order, value)
                    order = await run_db(
                        self.store.update, order.id, payout_address=address, payout_value=asked
                    )
                payout_address = order.payout_address
                assert payout_address is not None
                if order.payout_tail:
                    return True
                if order.payout_started and await self.provider.transfer_exists(payout_address):
                    # we died after broadcasting the transfer: it is on the tangle already
                    await run_db(self.store.update, order.id, payout_tail="(sent before restart)")
                    return True
                order = await self._ensure_funds(order, order.payout_value or value)
                order = await run_db(self.store.update, order.id, payout_started=True)
                asked_at = time.perf_counter()
                if self.channel_payer is not None:
                    # Off-ledger over the provider channel; at most once per order.
                    reference = await self.channel_payer(order.id, order.payout_value or value)
                    self.store.update(order.id, payout_tail=reference)
                    log.info("event=provider_paid_off_ledger order_id=%s", order.id)
                    return True
                result = await asyncio.to_thread(
                    self.wallet.send,
                    order.payout_value or value,
                    payout_address,
                    tag=self.config.tag,
                    message=f"energy for order {order.id}",
                )
                await run_db(self.store.update, order.id, payout_tail=str(result.tail_hash))
                self._settle_later(str(result.tail_hash))
                log.info(
                    "event=provider_paid order_id=%s value=%d tail=%s ask_ms=%d send_ms=%d",
                    order.id,
                    order.payout_value or value,
                    result.tail_hash,
                    (asked_at - started) * 1000,
                    (time.perf_counter() - asked_at) * 1000,
                )
                return True
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning(
                    "event=payout_retry order_id=%s error=%s detail=%s",
                    order.id,
                    type(error).__name__,
                    str(error)[:200].replace("\n", " "),
                )
                delay = backoff.next_delay()
                if time.time() + delay > deadline:
                    return False
                await asyncio.sleep(delay)

    def _ask_provider_early(self, order: Order) -> None:
        """Tell the provider while the milestone is still coming: it takes it a moment to
        make an address, and that moment then overlaps the confirmation wait."""
        if self.provider is None or order.payout_address or order.id in self._energy_requests:
            return
        task = asyncio.create_task(
            self.provider.request_energy(
                order.id, self.config.name, self.config.payout_for(order.price)
            )
        )
        self._energy_requests[order.id] = task
        # a failure is retried by _pay_provider; just make sure it is never "unretrieved"
        task.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def _energy_request(self, order: Order, value: int) -> tuple[str, int]:
        assert self.provider is not None
        early = self._energy_requests.pop(order.id, None)
        if early is not None:
            try:
                return await early
            except Exception as error:  # asked too early or the provider hiccuped: ask again
                log.info("event=early_energy_request_failed error=%s", type(error).__name__)
        return await self.provider.request_energy(order.id, self.config.name, value)

    def _settle_later(self, tail_hash: str) -> None:
        """Push the balance again once the payout is confirmed (it drops only then)."""
        is_confirmed = getattr(self.wallet, "is_confirmed", None)
        if is_confirmed is None:
            return

        async def settle() -> None:
            # polled from here (not wallet.wait_until_confirmed in a thread) so that a
            # shutdown cancels it at once
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    if await asyncio.to_thread(is_confirmed, tail_hash):
                        break
                except Exception as error:
                    log.warning("event=settle_error error=%s", type(error).__name__)
                await asyncio.sleep(self.config.poll_interval / 2)
            await self.refresh_balance()

        task = asyncio.create_task(settle())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def refresh_balance(self) -> None:
        try:
            balance = await asyncio.to_thread(self.wallet.balance)
        except Exception as error:  # the balance is informative; never stop serving for it
            log.warning("event=balance_error error=%s", type(error).__name__)
            return
        await self.broadcaster.announce_balance(balance)
