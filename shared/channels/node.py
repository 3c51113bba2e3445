"""One party of payment channels (seed 003's aa-channels-lib, in Python, over our devnet).

    node = ChannelNode(key, engine, ChannelConfig(agent_url=..., public_url=...), wallet)
    app.include_router(channel_router(node), prefix="/channels/peer")  # peers reach us here
    node.on_payment(lambda amount, message, channel: {"thanks": amount})
    supervisor.start("channels", node.watch)                       # the background part
    cid = await node.create_channel("http://peer:8000/channels/peer", 1000, timeout=600)
    answer = await node.pay(cid, 5, {"order": 42})
    await node.close(cid)

Payments are signed, cumulative packages ``{type, channel, period, payer, amount_spent,
payment_amount, seq}`` (Ed25519, see ``rules.sign``). The payer writes a package to the
database **before** it leaves the process and sends an unanswered one again, identical,
before any new one; the receiver accepts a package only if it is signed by the peer, for
this channel and period, with a higher ``seq`` than the last, a cumulative total that
grew by at least ``payment_amount`` and never exceeds what the payer deposited plus
what it received; it keeps the latest package as evidence for the agent. Everything is
in the database, so a party killed at any moment resumes with the same balances.

A node without a wallet is an HA *front*: it verifies packages and answers payers under
a row lock (``SELECT ... FOR UPDATE``), nothing else; the *background* node (wallet +
``watch``) deposits, sends commands to the agent and follows its decisions.

``ChannelNode`` is the public face; the work is done by its parts, one module each:
``payer.py``, ``receiver.py``, ``watcher.py`` (the agent), ``fastpath.py`` (the hot
path's SQL), ``transport.py`` (how peers are reached, chosen once here) over the state
they share (``core.py``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, select

from shared.channels.core import (
    COMMAND_TAG,
    MAX_COMMAND_BYTES,
    MAX_MESSAGE_BYTES,
    STORE,
    Callback,
    ChannelConfig,
    ChannelError,
    ConfigRow,
    NodeCore,
    PaymentError,
    PaymentRefused,
    PeerUnreachable,
    UnknownChannel,
    WalletLike,
    command_transfer,
    free_amount,
    public_key_hex,
)
from shared.channels.fastpath import Incoming, Outgoing
from shared.channels.payer import Payer, SentRecord
from shared.channels.receiver import Receiver
from shared.channels.store import ReceivedPayment, SentPayment
from shared.channels.transport import Transport
from shared.channels.watcher import AgentWatcher
from shared.db import run_db

__all__ = [
    "COMMAND_TAG",
    "MAX_COMMAND_BYTES",
    "MAX_MESSAGE_BYTES",
    "STORE",
    "Callback",
    "ChannelConfig",
    "ChannelError",
    "ChannelNode",
    "ConfigRow",
    "Incoming",
    "Outgoing",
    "PaymentError",
    "PaymentRefused",
    "PeerUnreachable",
    "SentRecord",
    "UnknownChannel",
    "WalletLike",
    "command_transfer",
    "public_key_hex",
]


class ChannelNode:
    """A party: the peer API (router), the payer API and the background watcher."""

    def __init__(
        self,
        key: Ed25519PrivateKey,
        database: str | Engine,
        config: ChannelConfig,
        wallet: WalletLike | None = None,
        *,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        """``http_client``: send every request, payments too, through it (tests: ASGI)."""
        transport = Transport(config.http_timeout, http_client)
        self._core = core = NodeCore(key, database, config, wallet, transport)
        self.key = key
        self.pubkey = core.pubkey
        self.config = config
        self.engine = core.engine
        self._watcher = AgentWatcher(core)
        self._payer = Payer(core, self._watcher)
        self._receiver = Receiver(core, self._watcher)

    # -- plumbing ---------------------------------------------------------------

    @property
    def wallet(self) -> WalletLike | None:
        return self._core.wallet

    @property
    def is_front(self) -> bool:
        return self._core.wallet is None

    def use_http_client(self, client: httpx.AsyncClient) -> None:
        """Send every request, payments too, through ``client`` (e.g. an ASGI transport).

        The same as ``http_client`` when the node is built; call it before the first
        request (the transport it replaces is not closed).
        """
        self._core.transport = Transport(self.config.http_timeout, client)

    async def aclose(self) -> None:
        await self._core.transport.aclose()

    def on_payment(self, callback: Callback) -> None:
        """``callback(amount, message, channel_id)`` answers each payment received.

        It may be a coroutine function. Its return value (JSON) goes back to the payer
        as the response; an exception's text goes back as the error (the payment still
        counts: the package is valid and kept).
        """
        self._receiver.on_payment(callback)

    # -- the payer's API (payer.py) ------------------------------------------------

    async def create_channel(
        self, peer: str, amount: int, *, timeout: int | None = None, salt: str | None = None
    ) -> str:
        """Open a channel with the node at ``peer`` (its router URL) and deposit ``amount``."""
        return await self._payer.create_channel(peer, amount, timeout=timeout, salt=salt)

    async def deposit(self, cid: str, amount: int) -> str:
        """Send ``amount`` from the wallet to the channel's current escrow; the tail hash."""
        return await self._payer.deposit(cid, amount)

    async def pay(self, cid: str, amount: int, message: Any = None) -> Any:
        """Pay ``amount`` off-ledger with ``message``; the peer's answer (or PaymentError)."""
        return await self._payer.pay(cid, amount, message)

    def flush_answers(self) -> None:
        """Write answers kept in memory (done anyway with the next payment)."""
        self._payer.flush_answers()

    async def close(self, cid: str) -> None:
        """Close the channel: no more payments; the watcher sends ``close`` to the agent.

        The ledger then pays each side ``deposited - paid + received``: at once when the
        peer confirms, after the timeout otherwise.
        """
        await self._payer.close(cid)

    def sent_payments(self, limit: int = 1000) -> list[SentRecord]:
        """The packages this node sent, newest first, at most ``limit`` (every channel).

        A read only: an answer not written yet still shows its package as ``pending``.
        """
        return self._payer.sent_payments(limit)

    # -- state ------------------------------------------------------------------------

    def balances_and_status(self, cid: str) -> dict[str, Any]:
        """``{status, period, amount_deposited_by_me, ..., free_amount}`` (from the database)."""
        self._payer.flush_answers()
        core = self._core
        with core.sessions() as session:
            row = core.row(session, cid)
            sent = session.scalars(
                select(SentPayment.status).where(
                    SentPayment.channel_id == cid, SentPayment.period == row.period
                )
            ).all()
            received = session.scalars(
                select(ReceivedPayment.id).where(
                    ReceivedPayment.channel_id == cid, ReceivedPayment.period == row.period
                )
            ).all()
        status = row.status
        if row.close_requested and status == "open":
            status = "closing_by_me"
        return {
            "channel_id": cid,
            "status": status,
            "period": row.period,
            "role": row.role,
            "peer_url": row.peer_url,
            "timeout": row.definition["timeout"],
            "amount_deposited_by_me": row.deposited_by_me,
            "amount_deposited_by_peer": row.deposited_by_peer,
            "amount_deposit_pending": row.deposits_pending,
            "amount_spent_by_me": row.spent_by_me,
            "amount_spent_by_peer": row.received,
            "free_amount": free_amount(row),
            "my_payments_count": len(sent),
            "my_payments_unanswered": sum(1 for s in sent if s == "pending"),
            "peer_payments_count": len(received),
            "settlements": row.settlements,
        }

    def channels(self) -> list[str]:
        return self._core.channels()

    async def wait_for(
        self, cid: str, predicate: Callable[[dict[str, Any]], bool], timeout: float
    ) -> dict[str, Any]:
        """Poll ``balances_and_status`` until ``predicate`` holds; TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            state = await run_db(self.balances_and_status, cid)
            if predicate(state):
                return state
            if time.monotonic() > deadline:
                raise TimeoutError(f"channel {cid[:16]} still {state['status']}: {state}")
            await asyncio.sleep(0.2)

    # -- the receiver (receiver.py; all an HA front does) --------------------------

    def accept_create(self, request: dict[str, Any]) -> dict[str, Any]:
        """A peer proposes a channel: check it, store it (I am B), answer my key/address."""
        return self._receiver.accept_create(request)

    def is_ready(self, cid: Any) -> bool:
        return self._receiver.is_ready(cid)

    async def receive(self, envelope: Any, message: Any) -> dict[str, Any]:
        """A package from a payer: ``{"accepted": true, "response"|"error": ...}``.

        Raises PaymentRefused when the package is refused (nothing is credited).
        """
        return await self._receiver.receive(envelope, message)

    # -- the watcher (watcher.py; the background) -----------------------------------

    def ensure_default_payout(self) -> None:
        """Background: write a payout address for channels the fronts accept."""
        self._watcher.ensure_default_payout()

    async def watch(self) -> None:
        """Follow the agent forever (run under shared.tasks.Supervisor)."""
        await self._watcher.watch()

    async def watch_once(self) -> None:
        await self._watcher.watch_once()

    async def agent_summary(self, cid: str) -> dict[str, Any] | None:
        return await self._watcher.summary(cid)
