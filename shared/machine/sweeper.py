"""Held order addresses: swept once their hold ends; payments that came too late reported.

Part of every machine's :class:`~shared.machine.processor.OrderProcessor` (a base class of
it, kept apart so the order flow reads on its own): an order's address stays held after
the order ends (a customer may pay it again), and is swept into a fresh address of the
machine's wallet ``PAYMENT_ADDRESS_HOLD_SECONDS`` later.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from shared.db import run_db
from shared.iota.payments import allocate
from shared.machine.config import MachineConfig
from shared.machine.ports import WalletLike
from shared.machine.status import ACTIVE_STATES, OrderState
from shared.machine.store import Order, OrderStore

__all__ = ["SWEEP_IDLE_MAX", "HeldAddressSweeper"]

log = logging.getLogger("machine.orders")

# Seconds between two sweeper passes at the most, while nothing happens (run_sweeper).
SWEEP_IDLE_MAX = 60.0


class HeldAddressSweeper:
    """The sweeper loop of an order processor (which sets these attributes)."""

    store: OrderStore
    wallet: WalletLike
    config: MachineConfig
    _stirred: asyncio.Event  # set when an order is taken or ends: the next pass comes soon

    async def refresh_balance(self) -> None:
        raise NotImplementedError

    async def run_sweeper(self) -> None:
        """Sweep order addresses whose hold ended; report payments that came too late.

        A pass costs a few database queries and, once orders have ended, a node call for
        their late payments. At rest the passes space out, doubling from twice the poll
        interval up to SWEEP_IDLE_MAX, so that an idle machine costs next to nothing (a
        fleet hosts hundreds, issue 22); an order taken or ended, or a pass that swept
        something, brings them back."""
        base = max(1.0, 2 * self.config.poll_interval)
        quiet = 0
        while True:
            swept = await self.sweep_once()
            quiet = 0 if swept or self._stirred.is_set() else quiet + 1
            self._stirred.clear()
            interval = min(base * 2 ** min(quiet, 16), max(base, SWEEP_IDLE_MAX))
            try:
                async with asyncio.timeout(interval):
                    await self._stirred.wait()
            except TimeoutError:
                continue
            # stirred: the next pass soon, but never more than one per base interval
            await asyncio.sleep(base)

    async def sweep_once(self) -> dict[str, int]:
        open_orders = {o.address for o in await run_db(self.store.unfinished)}
        swept = await asyncio.to_thread(self.wallet.sweep_due, skip=open_orders)
        for address, value in swept.items():
            order = await run_db(self.store.by_address, address)
            if order is None:
                continue
            earned = order.price if order.state == OrderState.DONE else 0
            credit = allocate(value, [earned]).excess
            await run_db(self.store.update, order.id, swept=True, received=value, credit=credit)
            log.info(
                "event=order_address_swept order_id=%s value=%d credit=%d reason=expired",
                order.id,
                value,
                credit,
            )
        ended = [o for o in await run_db(self.store.recent, 50) if o.state not in ACTIVE_STATES]
        await self._count_held(ended)
        late = await asyncio.to_thread(self.wallet.late_payments, [o.address for o in ended])
        for order in ended:
            amount = late.get(order.address, 0)
            if amount != order.late:
                await run_db(self.store.update, order.id, late=amount)
                log.warning(
                    "event=payment_late order_id=%s address=%s late=%d"
                    " reason=address_swept_before_it_arrived",
                    order.id,
                    order.address,
                    amount,
                )
        if swept:
            await self.refresh_balance()
        return swept

    async def _count_held(self, ended: Sequence[Order]) -> None:
        """An ended order's address stays held until it is swept: what a customer pays there
        meanwhile counts on the order (its credit) at once, so the books follow the wallet
        before the sweep, not only after it."""
        held = [o for o in ended if not o.swept]
        if not held:
            return
        try:
            balances = await asyncio.to_thread(
                self.wallet.address_balances, [o.address for o in held]
            )
        except Exception as error:
            log.warning("event=received_unknown orders=%d error=%s", len(held), error)
            return
        for order in held:
            received = balances.get(order.address, order.received)
            # an order whose money was already moved on (swept before the hold ended is
            # marked swept; a spent address reads 0) never loses what it counted
            if received > order.received:
                earned = order.price if order.state == OrderState.DONE else 0
                await run_db(
                    self.store.update,
                    order.id,
                    received=received,
                    credit=allocate(received, [earned]).excess,
                )
