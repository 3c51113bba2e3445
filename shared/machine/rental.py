"""Renting a tool of the lock for each product (issue 23): an order pays for machine time too.

``RENT_TOOL_URL`` (the lock controller's public URL) and ``RENT_TOOL_ID`` on a robot: for
every product order the robot buys the tool's minutes over a payment channel to the lock
(seed 003; the lock is the tools' owner and sells minutes, docs/lock.md "Pay-per-use"), the
way a member's node would:

1. it reads the tool's price and minimum from ``GET /tools/{id}`` (public);
2. it pays the minimum (``price_per_minute * min_minutes``) with the message
   ``{"tool_id": N, "order_id": ..., "part": 0}``: the lock unlocks the tool over MQTT
   before it answers, and the answer says how many seconds a payment bought and how many
   are left;
3. while the work goes on it pays one more minute whenever what is left would not last
   until the work ends (``RENT_MARGIN_SECONDS`` before it runs out), never more than the
   work needs; the lock locks the tool after its grace period once payments stop.

The channel is opened (``CHANNEL_DEPOSIT``) on the first rental and topped up from the
wallet like the provider's (shared/machine/channel_payment.py); it is the same channel node,
so the robot's books count its deposits as sends and its settlement as received money.
Each payment names the order and its part: after a restart a part already paid is not paid
again (the node's sent payments are its memory), so no minute is bought twice.

A refused payment (the tool in someone else's hands, its price raised above what the robot
holds, the lock gone) does not fail the order: the customer paid for the product, the work
goes on, and the refusal is in the order's status message and the log.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from shared.channels.core import ChannelError
from shared.channels.router import PEER_PREFIX
from shared.iota.wallet import InsufficientFunds, WalletError
from shared.retry import Backoff, retry_async

if TYPE_CHECKING:
    from shared.machine.channel_payment import MachineChannels

__all__ = ["Rental", "ToolRental"]

log = logging.getLogger("machine.rental")


@dataclass
class Rental:
    """What one order's work paid for the tool (the robot's status and its tests read it)."""

    tool_id: int
    paid: int = 0
    payments: int = 0
    seconds_bought: float = 0.0
    refused: str | None = None
    answers: list[dict[str, Any]] = field(default_factory=list)


class ToolRental:
    def __init__(
        self,
        channels: MachineChannels,
        lock_url: str,
        tool_id: int,
        margin_seconds: float = 1.0,
        timeout: float = 15.0,
    ) -> None:
        self.channels = channels
        self.lock_url = lock_url.rstrip("/")
        self.peer = self.lock_url + PEER_PREFIX
        self.tool_id = tool_id
        self.margin = margin_seconds
        self.timeout = timeout

    async def _terms(self) -> tuple[int, int]:
        """(price per minute, minimum minutes) of the tool now: the owner may change them."""
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            reply = await client.get(f"{self.lock_url}/tools/{self.tool_id}")
        reply.raise_for_status()
        tool = reply.json()
        if tool.get("pricing") != "paid" or not tool.get("price_per_minute"):
            raise ChannelError(f"tool {self.tool_id} is not sold by the minute")
        return int(tool["price_per_minute"]), int(tool.get("min_minutes") or 1)

    async def _pay(self, rental: Rental, order_id: str, part: int, amount: int) -> dict[str, Any]:
        message = {"tool_id": self.tool_id, "order_id": order_id, "part": part}
        # The deposit may wait for the change of the robot's last send (the provider's
        # payout a moment ago) to be confirmed: the next milestone or two.
        answer = await retry_async(
            lambda: self.channels.pay_peer(self.peer, amount, message),
            attempts=5,
            retry_on=(InsufficientFunds,),
            backoff=Backoff(initial=0.5, maximum=2.0),
        )
        answer = answer if isinstance(answer, dict) else {"answer": answer}
        rental.paid += amount
        rental.payments += 1
        rental.seconds_bought += float(answer.get("bought_seconds") or 0.0)
        rental.answers.append(answer)
        return answer

    async def use(self, order_id: str, work: Awaitable[None], work_seconds: float) -> Rental:
        """Pay for the tool while ``work`` (lasting about ``work_seconds``) runs; await both."""
        rental = Rental(self.tool_id)
        task = asyncio.ensure_future(work)
        try:
            price, minimum = await self._terms()
            ends = time.monotonic() + work_seconds
            answer = await self._pay(rental, order_id, 0, price * minimum)
            log.info(
                "event=tool_rented order_id=%s tool=%d paid=%d seconds_left=%s",
                order_id,
                self.tool_id,
                price * minimum,
                answer.get("seconds_left"),
            )
            part = 1
            while not task.done():
                left = float(answer.get("seconds_left") or 0.0)
                paid_until = time.monotonic() + left
                if paid_until >= ends:
                    break  # what is paid outlasts the work: no minute more
                await asyncio.wait({task}, timeout=max(0.0, left - self.margin))
                if task.done():
                    break
                answer = await self._pay(rental, order_id, part, price)
                part += 1
        except (ChannelError, WalletError, httpx.HTTPError) as error:
            rental.refused = str(error)[:300]
            log.warning(
                "event=tool_rental_refused order_id=%s tool=%d error=%s",
                order_id,
                self.tool_id,
                rental.refused,
            )
        await task
        return rental
