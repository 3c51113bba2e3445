"""The payer's side of a channel node: open, deposit, pay, close.

A payment is a signed cumulative package written to the database **before** it leaves
the process; an unanswered one is sent again, identical, before any new one (the peer
keeps its answer and repeats it without crediting twice). An answer is written with the
next package, so a payment costs one commit on this side (``flush_answers`` writes them
sooner). The hot path's statements are in ``fastpath.py``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select, update

from shared.channels import fastpath as fast
from shared.channels.core import (
    ChannelError,
    NodeCore,
    PaymentError,
    PaymentRefused,
    PeerUnreachable,
    UnknownChannel,
    check_amount,
    check_message,
    command_transfer,
)
from shared.channels.fastpath import Outgoing
from shared.channels.rules import ChannelDefinition, PartyDef, RuleError, sign
from shared.channels.store import ChannelRow, SentPayment
from shared.channels.transport import TransportError
from shared.channels.watcher import AgentWatcher
from shared.db import run_db

log = logging.getLogger("shared.channels")


@dataclass(frozen=True)
class SentRecord:
    """A package this node sent (``ChannelNode.sent_payments``)."""

    id: int
    channel_id: str
    period: int
    seq: int
    amount: int
    message: Any
    status: str  # pending, answered, refused, error


class Payer:
    """Pays over the node's channels (the role's ``A`` or ``B`` alike)."""

    def __init__(self, core: NodeCore, watcher: AgentWatcher) -> None:
        self.core = core
        self.watcher = watcher
        self._engine = core.engine
        self._key = core.key
        self._pay_locks: dict[str, asyncio.Lock] = {}
        self._finished: dict[str, list[tuple[int, Any]]] = {}  # answers not written yet
        self._peers: dict[str, tuple[str, bool]] = {}  # channel -> (peer url, peer ready)
        self._clean: dict[str, bool] = {}  # True: no unanswered package in the database

    async def create_channel(
        self, peer: str, amount: int, *, timeout: int | None = None, salt: str | None = None
    ) -> str:
        """Open a channel with the node at ``peer`` (its router URL) and deposit ``amount``."""
        core = self.core
        wallet = core.need_wallet("create_channel")
        timeout = core.config.default_timeout if timeout is None else timeout
        if amount != 0:
            check_amount(amount)
        salt = salt or secrets.token_hex(8)
        address = await asyncio.to_thread(wallet.new_address, "channel-payout")
        try:
            reply = await core.transport.http().post(
                f"{peer.rstrip('/')}/create",
                json={
                    "pubkey": core.pubkey,
                    "address": address,
                    "timeout": timeout,
                    "salt": salt,
                    "url": core.config.public_url,
                },
            )
        except httpx.InvalidURL as error:
            raise ChannelError(f"peer is not a valid URL: {error}") from None
        except httpx.HTTPError as error:
            raise PeerUnreachable(f"peer {peer} did not answer: {error!r}") from None
        if reply.status_code != 200:
            raise ChannelError(f"peer refused the channel: {reply.text[:300]}")
        try:
            answer = reply.json()
        except ValueError:
            raise ChannelError("peer answered the create request with something not JSON") from None
        try:
            definition = ChannelDefinition(
                PartyDef(address, core.pubkey),
                PartyDef(answer["address"], answer["pubkey"]),
                timeout,
                salt,
            )
        except (KeyError, TypeError, RuleError) as error:
            raise ChannelError(f"peer answered with a bad definition: {error}") from None
        cid = definition.channel_id
        if answer.get("channel_id") != cid:
            raise ChannelError("peer computed another channel id")
        await run_db(core.insert_channel, definition, "A", peer.rstrip("/"), address)
        await self.watcher.register(cid, definition)
        log.info("event=channel_created channel=%s peer=%s timeout=%d", cid[:16], peer, timeout)
        if amount:
            await self.deposit(cid, amount)
        return cid

    async def deposit(self, cid: str, amount: int) -> str:
        """Send ``amount`` from the wallet to the channel's current escrow; the tail hash."""
        wallet = self.core.need_wallet("deposit")
        check_amount(amount)
        row = await run_db(self.core.get, cid)
        if row.status.startswith("closing") or row.close_requested:
            raise ChannelError("the channel is closing: a deposit now would only be refunded")
        summary = await self.watcher.summary(cid)
        if summary is None:
            summary = await self.watcher.register(cid, ChannelDefinition.from_json(row.definition))
        if summary["status"] != "open":
            raise ChannelError("the agent is closing this channel: deposit after it settled")
        period = summary["period"]
        payout = await self.watcher.payout_address(cid)
        body = {
            "type": "deposit",
            "channel": cid,
            "period": period,
            "party": row.role,
            "payout": payout,
        }
        tag, message = command_transfer(self._key, body)
        await run_db(self._add_pending_deposit, cid, amount)
        try:
            result = await asyncio.to_thread(
                wallet.send, amount, summary["escrow"], tag=tag, message=message
            )
        except Exception:
            await run_db(self._add_pending_deposit, cid, -amount)
            raise
        log.info("event=channel_deposit channel=%s period=%d amount=%d", cid[:16], period, amount)
        return str(result.tail_hash)

    def _add_pending_deposit(self, cid: str, amount: int) -> None:
        core = self.core
        with core.lock(cid), core.sessions.begin() as session:
            row = core.row(session, cid, lock=True)
            row.deposits_pending = max(0, row.deposits_pending + amount)

    async def pay(self, cid: str, amount: int, message: Any = None) -> Any:
        """Pay ``amount`` off-ledger with ``message``; the peer's answer (or PaymentError)."""
        check_amount(amount)
        check_message(message)
        lock = self._pay_locks.setdefault(cid, asyncio.Lock())
        async with lock:
            while True:
                finished = self._finished.pop(cid, [])
                try:
                    sent, fresh = await run_db(self.next_package, cid, amount, message, finished)
                except BaseException:
                    self._finished.setdefault(cid, [])[:0] = finished  # written next time
                    raise
                if fresh:
                    return await self._deliver(sent)
                # Never a new package while one may be in the peer's hands unanswered.
                await self._deliver(sent)

    @staticmethod
    def _flush_finished(conn: Any, finished: list[tuple[int, Any]]) -> None:
        if finished:
            fast.SENT_ANSWERED.executemany(
                conn, [{"sent_id": sent_id, "answer": answer} for sent_id, answer in finished]
            )

    def next_package(
        self, cid: str, amount: int, message: Any, finished: list[tuple[int, Any]]
    ) -> tuple[Outgoing, bool]:
        """(the oldest unanswered package, False) or (a new package, True): one transaction.

        ``finished`` are answers received since the last call: written here, with the
        next package, so a payment costs one commit on the payer's side. After a crash an
        answered package may look unanswered: it is sent again and the peer, which keeps
        its answer, repeats it without crediting it twice.
        """
        with self.core.lock(cid), self._engine.begin() as conn:
            self._flush_finished(conn, finished)
            row = fast.PAYER_ROW.first(conn, {"cid": cid})
            if row is None:
                raise UnknownChannel(f"unknown channel {cid[:16]}")
            if not self._clean.get(cid):
                pending = conn.execute(
                    fast.OLDEST_PENDING, {"cid": cid, "period": row.period}
                ).first()
                if pending is not None:
                    return Outgoing(pending.id, cid, pending.package, pending.message), False
            if row.close_requested:
                raise ChannelError("a close was requested on this channel: no payments")
            if row.status != "open":
                raise ChannelError(f"the channel is {row.status}: no payments")
            free = row.deposited_by_me - row.spent_by_me + row.received
            if amount > free:
                raise ChannelError(f"amount {amount} is above the free balance {free}")
            seq, spent = row.my_seq + 1, row.spent_by_me + amount
            body = {
                "type": "payment",
                "channel": cid,
                "period": row.period,
                "payer": row.role,
                "amount_spent": spent,
                "payment_amount": amount,
                "seq": seq,
            }
            package = sign(self._key, body)
            now = time.time()
            fast.SPEND.execute(conn, {"cid": cid, "new_seq": seq, "new_spent": spent, "now": now})
            sent_id = fast.INSERT_SENT.insert(
                conn,
                {
                    "channel_id": cid,
                    "period": row.period,
                    "seq": seq,
                    "amount": amount,
                    "package": package,
                    "message": message,
                    "status": "pending",
                    "created_at": now,
                },
            )
            self._clean[cid] = False
            self._peers[cid] = (row.peer_url, row.is_peer_ready)
            return Outgoing(sent_id, cid, package, message), True

    def flush_answers(self) -> None:
        """Write answers kept in memory (done anyway with the next payment)."""
        with self._engine.begin() as conn:
            for cid in list(self._finished):
                self._flush_finished(conn, self._finished.pop(cid, []))

    async def _deliver(self, sent: Outgoing) -> Any:
        cid = sent.channel_id
        peer_url, ready = self._peers.get(cid, ("", False))
        if not ready:
            row = await run_db(self.core.get, cid)
            peer_url = row.peer_url
            if not row.is_peer_ready:
                await self._ask_ready(row)
            self._peers[cid] = (peer_url, True)
        try:
            status, content = await self.core.transport.post(
                f"{peer_url}/pay", {"package": sent.package, "message": sent.message}
            )
        except TransportError as error:
            raise PeerUnreachable(f"peer did not answer: {error}") from None
        self._clean[cid] = status < 500  # answered, refused or failed: not pending
        try:
            answer = json.loads(content)
        except ValueError:
            answer = {"error": content[:300].decode("utf-8", "replace")}
        if not isinstance(answer, dict):
            answer = {"error": "peer answered with something else than an object"}
        if status >= 500:
            raise PeerUnreachable(f"peer failed: {status} {answer.get('error')}")
        if status != 200 or not answer.get("accepted"):
            refusal = str(answer.get("error") or f"status {status}")[:500]
            # The amount stays counted as spent: the peer holds a signed package for it.
            await run_db(self._finish_sent, sent.id, "refused", None, refusal)
            raise PaymentRefused(refusal)
        if answer.get("error") is not None:
            failure = str(answer["error"])[:500]
            await run_db(self._finish_sent, sent.id, "error", None, failure)
            raise PaymentError(failure)
        response = answer.get("response")
        self._finished.setdefault(cid, []).append((sent.id, response))
        return response

    def _finish_sent(self, sent_id: int, status: str, response: Any, error: str | None) -> None:
        with self.core.sessions.begin() as session:
            session.execute(
                update(SentPayment)
                .where(SentPayment.id == sent_id)
                .values(status=status, response=response, error=error)
            )

    async def _ask_ready(self, row: ChannelRow) -> None:
        try:
            reply = await self.core.transport.http().post(
                f"{row.peer_url}/is_ready", json={"channel_id": row.channel_id}
            )
        except httpx.HTTPError as error:
            raise PeerUnreachable(f"peer did not answer: {error!r}") from None
        if reply.status_code != 200 or reply.json().get("response") is not True:
            raise ChannelError(f"peer is not ready for channel {row.channel_id[:16]}")
        await run_db(self.core.set, row.channel_id, is_peer_ready=True)

    async def close(self, cid: str) -> None:
        """Close the channel: no more payments; the watcher sends ``close`` to the agent."""
        await run_db(self._request_close, cid)
        if self.core.wallet is not None:
            summary = await self.watcher.summary(cid)
            if summary is not None:
                await self.watcher.act(cid, summary)

    def _request_close(self, cid: str) -> None:
        core = self.core
        with core.lock(cid), core.sessions.begin() as session:
            row = core.row(session, cid, lock=True)
            if row.status == "closed" and not row.deposited_by_me and not row.deposited_by_peer:
                raise ChannelError("the channel is closed: nothing to close")
            row.close_requested = True

    def sent_payments(self, limit: int = 1000) -> list[SentRecord]:
        """The packages this node sent, newest first, at most ``limit`` (every channel).

        A read only: an answer not written yet (it goes with the next payment, or
        ``flush_answers``) still shows its package as ``pending``.
        """
        with self.core.sessions() as session:
            rows = session.execute(
                select(
                    SentPayment.id,
                    SentPayment.channel_id,
                    SentPayment.period,
                    SentPayment.seq,
                    SentPayment.amount,
                    SentPayment.message,
                    SentPayment.status,
                )
                .order_by(SentPayment.id.desc())
                .limit(limit)
            ).all()
        return [SentRecord(*row) for row in rows]
