"""Paying the energy provider over a payment channel (seed 003) instead of one transfer per order.

``PROVIDER_PAYMENT=channel`` on a robot: the first payout opens a channel to its provider
and funds it once (``CHANNEL_DEPOSIT``, at most what the wallet holds); every order's
payout is then an instant off-ledger payment whose message names the order; the channel
is topped up from the wallet when it runs low; closing it settles on the devnet.

Every provider accepts channels (the router at ``/channels/peer``): its callback records
the off-ledger payment for the energy order named in the message, and the order
processor counts it as that order's confirmed payment (``OrderProcessor.paid_off_ledger``).

The Ed25519 key is ``CHANNEL_KEY`` or, by default, derived from the machine's seed (so no
new secret is needed); the agent is the devnet at ``IOTA_NODE_URL``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from pathlib import Path
from typing import Annotated, Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from sqlalchemy import BigInteger, Column, MetaData, String, Table, insert, select

from shared.channels.node import ChannelConfig, ChannelNode, WalletLike
from shared.channels.router import PEER_PREFIX, channel_router
from shared.machine.deps import require_machine_token
from shared.machine.processor import OrderProcessor
from shared.machine.rental import ToolRental
from shared.machine.settings import MachineSettings
from shared.migrations import Store, upgrade
from shared.tasks import Supervisor
from shared.web import provide, provided

__all__ = ["MachineChannels", "channel_key", "mount_channels", "router", "start_channels"]

log = logging.getLogger("machine.channels")


_meta = MetaData()
energy_payments = Table(
    "channel_energy_payments",
    _meta,
    Column("order_id", String(64), primary_key=True),
    Column("amount", BigInteger, nullable=False),
    Column("channel_id", String(64), nullable=False),
)


def channel_key(settings: MachineSettings) -> Ed25519PrivateKey:
    """``CHANNEL_KEY`` (64 hex), else a key derived from the seed (never stored or logged)."""
    if settings.channel_key is not None:
        return Ed25519PrivateKey.from_private_bytes(
            bytes.fromhex(settings.channel_key.get_secret_value())
        )
    seed = settings.seed.get_secret_value()
    return Ed25519PrivateKey.from_private_bytes(
        hashlib.sha256(f"machine-economy/channel-key/v1/{seed}".encode()).digest()
    )


# Energy paid by channel, in the machine's database: shared/machine/migrations/channels.
STORE = Store("machine_channels", Path(__file__).parent / "migrations" / "channels", _meta)


class SpendingWallet(WalletLike, Protocol):
    """The channel node's wallet, plus what it can spend (held order money excluded)."""

    def spendable_balance(self) -> int: ...


class MachineChannels:
    """A machine's channel node: the provider's receiving side, the robot's paying side."""

    def __init__(
        self,
        settings: MachineSettings,
        wallet: SpendingWallet,
        database_url: str,
        provider_url: str | None,
    ) -> None:
        public = settings.channel_public_url or f"http://127.0.0.1:{settings.port}"
        self.node = ChannelNode(
            channel_key(settings),
            database_url,
            ChannelConfig(
                agent_url=settings.iota_node_url,
                public_url=public.rstrip("/") + PEER_PREFIX,
                default_timeout=settings.channel_timeout,
            ),
            wallet,
        )
        upgrade(self.node.engine, STORE)
        self.wallet = wallet
        self.deposit = settings.channel_deposit
        self.provider_peer = provider_url.rstrip("/") + PEER_PREFIX if provider_url else None
        self.supervisor = Supervisor("machine-channels")
        self._open_lock = asyncio.Lock()
        self.node.on_payment(self._energy_paid)

    async def start(self) -> None:
        self.supervisor.start("channel-watcher", self.node.watch)

    async def stop(self) -> None:
        await self.supervisor.stop()
        await self.node.aclose()

    # -- provider side ----------------------------------------------------------

    async def _energy_paid(self, amount: int, message: Any, channel_id: str) -> dict[str, Any]:
        # Async on purpose: it runs after the receiver committed the payment, so its own
        # write never waits on the receiver's transaction (one SQLite writer at a time).
        order_id = message.get("order_id") if isinstance(message, dict) else None
        if not isinstance(order_id, str) or not 1 <= len(order_id) <= 64:
            raise ValueError("the message must name the energy order: {'order_id': ...}")
        await asyncio.to_thread(self._record, order_id, amount, channel_id)
        log.info("event=energy_paid_off_ledger order_id=%s amount=%d", order_id, amount)
        return {"order_id": order_id, "paid": amount}

    def _record(self, order_id: str, amount: int, channel_id: str) -> None:
        """One payment per energy order: a retried callback changes nothing."""
        with self.node.engine.begin() as conn:
            known = conn.execute(
                select(energy_payments.c.amount).where(energy_payments.c.order_id == order_id)
            ).first()
            if known is None:
                conn.execute(
                    insert(energy_payments).values(
                        order_id=order_id, amount=amount, channel_id=channel_id
                    )
                )

    def paid_off_ledger(self, order_id: str) -> int:
        """What the order was paid over channels (0 if nothing)."""
        with self.node.engine.connect() as conn:
            amount = conn.execute(
                select(energy_payments.c.amount).where(energy_payments.c.order_id == order_id)
            ).scalar()
        return int(amount or 0)

    # -- robot side ----------------------------------------------------------------

    async def pay(self, order_id: str, value: int) -> str:
        """Pay ``value`` for ``order_id`` off-ledger, at most once; a reference to keep."""
        done = await asyncio.to_thread(self._already_paid, order_id)
        if done is not None:
            return done
        assert self.provider_peer is not None
        cid = await self._channel(self.provider_peer, value)
        await self.node.pay(cid, value, {"order_id": order_id, "energy": value})
        return f"channel:{cid[:16]}"

    async def pay_peer(self, peer: str, value: int, message: dict[str, Any]) -> Any:
        """Pay ``value`` to ``peer`` (a channel peer URL) with ``message``; the peer's answer.

        A message already sent (a restart after paying) is not paid again: the answer is
        then ``{"already_paid": True}`` (the node keeps packages, not their answers' use).
        """
        sent = await asyncio.to_thread(self._sent_with, message)
        if sent:
            return {"already_paid": True}
        cid = await self._channel(peer, value)
        return await self.node.pay(cid, value, message)

    def _sent_with(self, message: dict[str, Any]) -> bool:
        return any(
            sent.message == message and sent.status != "refused"
            for sent in self.node.sent_payments(limit=2000)
        )

    def _already_paid(self, order_id: str) -> str | None:
        """A payment for ``order_id`` already sent (a restart after paying)."""
        for sent in self.node.sent_payments(limit=2000):
            named = isinstance(sent.message, dict) and sent.message.get("order_id") == order_id
            if named and sent.status != "refused":
                return f"channel:{sent.channel_id[:16]}"
        return None

    async def _channel(self, peer: str, value: int) -> str:
        """An open channel to ``peer`` with at least ``value`` free (opened/topped up)."""
        async with self._open_lock:
            cid = await asyncio.to_thread(self._current_channel, peer)
            if cid is None:
                amount = await self._deposit_amount(value)
                cid = await self.node.create_channel(peer, amount)
                log.info(
                    "event=channel_opened peer=%s channel=%s deposit=%d", peer, cid[:16], amount
                )
            state = await asyncio.to_thread(self.node.balances_and_status, cid)
            if state["free_amount"] + state["amount_deposit_pending"] < value:
                amount = await self._deposit_amount(value)
                await self.node.deposit(cid, amount)
                log.info("event=channel_refilled channel=%s deposit=%d", cid[:16], amount)
            await self.node.wait_for(
                cid, lambda s: s["status"] == "open" and s["free_amount"] >= value, timeout=90
            )
            return cid

    async def _deposit_amount(self, value: int) -> int:
        # what the wallet can spend: order addresses are held until they are swept
        available = await asyncio.to_thread(self.wallet.spendable_balance)
        return max(value, min(self.deposit, available))

    def _current_channel(self, peer: str) -> str | None:
        for cid in self.node.channels():
            state = self.node.balances_and_status(cid)
            if state["peer_url"] == peer and state["status"] in ("opening", "open"):
                return cid
        return None

    def summary(self) -> dict[str, Any]:
        """The provider channel's balances and status (the dashboard's card)."""
        channels = []
        for cid in self.node.channels():
            state = self.node.balances_and_status(cid)
            channels.append(
                {
                    key: state[key]
                    for key in (
                        "channel_id",
                        "status",
                        "period",
                        "role",
                        "amount_deposited_by_me",
                        "amount_deposited_by_peer",
                        "amount_spent_by_me",
                        "amount_spent_by_peer",
                        "free_amount",
                        "my_payments_count",
                        "peer_payments_count",
                    )
                }
                | {"settlements": len(state["settlements"])}
            )
        return {"channels": channels, "time": time.time()}


async def start_channels(
    settings: MachineSettings,
    role: str,
    processor: OrderProcessor,
    wallet: Any,
    database_url: str,
) -> MachineChannels | None:
    """Providers always take channel payments; robots pay over one if PROVIDER_PAYMENT=channel
    and rent a tool of the lock over another if RENT_TOOL_URL is set."""
    paying = role == "robot" and settings.provider_payment == "channel"
    renting = role == "robot" and settings.rent_tool_url is not None
    if role != "provider" and not (paying or renting):
        return None
    provider_url = getattr(settings, "provider_url", None) if paying else None
    channels = await asyncio.to_thread(
        MachineChannels, settings, wallet, database_url, provider_url
    )
    if paying:
        processor.channel_payer = channels.pay
    if renting:
        assert settings.rent_tool_url is not None and settings.rent_tool_id is not None
        processor.tool_rental = ToolRental(
            channels, settings.rent_tool_url, settings.rent_tool_id, settings.rent_margin_seconds
        )
    if role == "provider":
        processor.paid_off_ledger = channels.paid_off_ledger
    await channels.start()
    log.info("event=channels_started role=%s paying=%s renting=%s", role, paying, renting)
    return channels


async def _channels(request: Request) -> MachineChannels | None:
    """The machine's channels, or None while the lifespan starts them."""
    holder: dict[str, MachineChannels] = provided(request, "machine_channels")
    return holder.get("channels")


Channels = Annotated[MachineChannels | None, Depends(_channels)]

#: ``GET /channel`` and ``POST /channel/close`` (MACHINE_TOKEN), module-level;
#: :func:`mount_channels` gives them one machine's channels.
router = APIRouter()


@router.get("/channel")
async def channel_card(channels: Channels) -> dict[str, Any]:
    """Balances and status of this machine's payment channels (read-only)."""
    if channels is None:
        return {"channels": [], "time": time.time()}
    return await asyncio.to_thread(channels.summary)


@router.post(
    "/channel/close",
    dependencies=[require_machine_token],
    responses={
        401: {"description": "no or a wrong MACHINE_TOKEN (or none is set, MACHINE_OPEN off)"},
        503: {"description": "payment channels are starting"},
    },
)
async def close_channels(channels: Channels) -> Any:
    """Close every open channel of this machine; the agent settles them on the devnet."""
    if channels is None:
        raise HTTPException(503, "payment channels are starting")
    closed = []
    for cid in await asyncio.to_thread(channels.node.channels):
        state = await asyncio.to_thread(channels.node.balances_and_status, cid)
        if state["status"] == "open":
            await channels.node.close(cid)
            closed.append(cid)
    return {"closing": closed}


def mount_channels(app: FastAPI, holder: dict[str, MachineChannels]) -> None:
    """The peer router, ``GET /channel`` and ``POST /channel/close`` (MACHINE_TOKEN, read
    from ``app.state.machine_settings``: shared/machine/deps.py); ``holder["channels"]`` is
    filled by the lifespan."""

    def node() -> ChannelNode:
        channels = holder.get("channels")
        if channels is None:
            raise HTTPException(503, "payment channels are starting")
        return channels.node

    app.include_router(channel_router(node), prefix=PEER_PREFIX)
    app.include_router(router, dependencies=[provide("machine_channels", holder)])
