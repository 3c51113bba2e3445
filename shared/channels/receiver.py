"""The receiver's side of a channel node (all an HA front does): accept channels, take payments.

A package is taken only if it is signed by the peer, for a known open channel and the
current period, with a higher ``seq`` than the last, a cumulative total that grew by at
least ``payment_amount`` and never exceeds what the payer deposited plus what it
received. It is checked and credited in one transaction under the channel's row lock
(``SELECT ... FOR UPDATE``; on SQLite the in-process lock), the latest package kept as
evidence for the agent. The hot path's statements are in ``fastpath.py``.
"""

from __future__ import annotations

import inspect
import logging
import time
from typing import Any

import httpx
from sqlalchemy import update

from shared.channels import fastpath as fast
from shared.channels.core import (
    Callback,
    ChannelError,
    ConfigRow,
    NodeCore,
    PaymentRefused,
    Unsynced,
    check_message,
)
from shared.channels.fastpath import Incoming
from shared.channels.rules import ChannelDefinition, PartyDef, RuleError, other, verify
from shared.channels.store import ChannelRow, ReceivedPayment
from shared.channels.watcher import AgentWatcher
from shared.db import run_db

log = logging.getLogger("shared.channels")


class Receiver:
    """Answers the peer routes (``router.py``): ``create``, ``is_ready``, ``pay``."""

    def __init__(self, core: NodeCore, watcher: AgentWatcher) -> None:
        self.core = core
        self.watcher = watcher
        self._engine = core.engine
        self._callback: Callback | None = None
        self._callback_is_async = False
        self._definitions: dict[str, ChannelDefinition] = {}

    def on_payment(self, callback: Callback) -> None:
        self._callback = callback
        self._callback_is_async = inspect.iscoroutinefunction(callback)

    def accept_create(self, request: dict[str, Any]) -> dict[str, Any]:
        """A peer proposes a channel: check it, store it (I am B), answer my key/address."""
        config = self.core.config
        timeout = request.get("timeout")
        if isinstance(timeout, bool) or not isinstance(timeout, int):
            raise ChannelError("timeout must be an integer")
        if not config.min_timeout <= timeout <= config.max_timeout:
            raise ChannelError(
                f"timeout must be between {config.min_timeout} and {config.max_timeout} seconds"
            )
        url = request.get("url")
        if (
            not isinstance(url, str)
            or not url.startswith(("http://", "https://"))
            or len(url) > 500
        ):
            raise ChannelError("url must be the http(s) URL of the peer's channel router")
        address = self._default_payout()
        pubkey = self.core.pubkey
        try:
            definition = ChannelDefinition(
                PartyDef(request.get("address"), request.get("pubkey")),  # type: ignore[arg-type]
                PartyDef(address, pubkey),
                timeout,
                request.get("salt"),  # type: ignore[arg-type]
            )
        except RuleError as error:
            raise ChannelError(str(error)) from None
        self.core.insert_channel(definition, "B", url.rstrip("/"), None)
        log.info("event=channel_accepted channel=%s peer=%s", definition.channel_id[:16], url)
        return {"pubkey": pubkey, "address": address, "channel_id": definition.channel_id}

    def _default_payout(self) -> str:
        """The payout address a new channel names (the background writes it: watcher.py)."""
        with self.core.sessions() as session:
            row = session.get(ConfigRow, "payout_address")
        if row is None:
            raise ChannelError("no payout address yet: the background node has not started")
        return row.value

    def is_ready(self, cid: Any) -> bool:
        if not isinstance(cid, str):
            return False
        with self.core.sessions() as session:
            row = session.get(ChannelRow, cid)
        return row is not None and row.status not in ("closing_by_me", "closing_by_peer")

    def _definition(self, cid: str, raw: dict[str, Any]) -> ChannelDefinition:
        definition = self._definitions.get(cid)
        if definition is None:
            definition = self._definitions[cid] = ChannelDefinition.from_json(raw)
        return definition

    def accept_package(self, envelope: Any, message: Any) -> Incoming:
        """Verify and record a package under the channel's row lock.

        A plain (not async) callback answers inside the same transaction: the payment
        and its answer are one commit. Raises PaymentRefused.
        """
        body = envelope.get("body") if isinstance(envelope, dict) else None
        if not isinstance(body, dict) or not isinstance(body.get("channel"), str):
            raise PaymentRefused("not a signed package")
        cid = body["channel"]
        definition = self._definitions.get(cid)
        with self.core.lock(cid), self._engine.begin() as conn:
            if definition is not None:
                row = fast.RECEIVER_ROW.first(conn, {"cid": cid})
            else:  # once per channel: the JSON definition through Core
                row = conn.execute(fast.RECEIVER_ROW_DEF, {"cid": cid}).first()
            if row is None:
                raise PaymentRefused("unknown channel")
            peer = other(row.role)
            if definition is None:
                definition = self._definition(cid, row.definition)
            if verify(definition.party(peer).pubkey, envelope) is None:
                raise PaymentRefused("bad signature")
            if body.get("type") != "payment" or body.get("payer") != peer:
                raise PaymentRefused("not a payment package from the peer")
            if body.get("period") != row.period:
                raise PaymentRefused(f"wrong period {body.get('period')!r}, now {row.period}")
            seq, spent, amount = (
                body.get("seq"),
                body.get("amount_spent"),
                body.get("payment_amount"),
            )
            for name, value in (("seq", seq), ("amount_spent", spent), ("payment_amount", amount)):
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise PaymentRefused(f"{name} must be a non-negative integer")
            assert isinstance(seq, int) and isinstance(spent, int) and isinstance(amount, int)
            if seq <= row.peer_seq:
                known = conn.execute(
                    fast.KNOWN_PACKAGE, {"cid": cid, "period": row.period, "seq": seq}
                ).first()
                if known is not None and known.package == envelope:
                    # The payer's retry: the same answer, no new credit.
                    return Incoming(
                        known.id, cid, known.amount, known.answered, known.response, known.error
                    )
                raise PaymentRefused(f"stale or replayed package (seq {seq} <= {row.peer_seq})")
            if row.status == "opening" and not row.close_requested:
                raise Unsynced("the channel is opening")
            if row.status != "open" or row.close_requested:
                raise PaymentRefused(f"the channel is {row.status}")
            if amount <= 0 or spent - row.received < amount:
                raise PaymentRefused(
                    f"amount_spent {spent} must be at least {row.received} + {amount}"
                )
            if spent > row.deposited_by_peer + row.spent_by_me:
                raise Unsynced(
                    f"amount_spent {spent} is above what the peer has "
                    f"({row.deposited_by_peer} deposited + {row.spent_by_me} received)"
                )
            now = time.time()
            fast.CREDIT.execute(
                conn,
                {
                    "cid": cid,
                    "new_seq": seq,
                    "new_received": spent,
                    "package": envelope,
                    "now": now,
                },
            )
            callback = self._callback
            answered = callback is None or not self._callback_is_async
            response, error = (
                self._call_back(callback, amount, message, cid) if answered else (None, None)
            )
            payment_id = fast.INSERT_RECEIVED.insert(
                conn,
                {
                    "channel_id": cid,
                    "period": row.period,
                    "seq": seq,
                    "amount": amount,
                    "package": envelope,
                    "answered": answered,
                    "response": response,
                    "error": error,
                    "front": self.core.config.name,
                    "created_at": now,
                },
            )
            return Incoming(payment_id, cid, amount, answered, response, error)

    def _answer(self, payment_id: int, response: Any, error: str | None) -> None:
        with self.core.sessions.begin() as session:
            session.execute(
                update(ReceivedPayment)
                .where(ReceivedPayment.id == payment_id)
                .values(answered=True, response=response, error=error)
            )

    @staticmethod
    def _call_back(
        callback: Callback | None, amount: int, message: Any, cid: str
    ) -> tuple[Any, str | None]:
        if callback is None:
            return None, None
        try:
            result = callback(amount, message, cid)
            check_message(result)
            return result, None
        except Exception as exc:  # the callback's error goes back to the payer
            return None, str(exc)[:500] or type(exc).__name__

    async def receive(self, envelope: Any, message: Any) -> dict[str, Any]:
        """A package from a payer: ``{"accepted": true, "response"|"error": ...}``.

        Raises PaymentRefused when the package is refused (nothing is credited).
        """
        try:
            payment = await run_db(self.accept_package, envelope, message)
        except Unsynced as refusal:
            # The payer may have seen the agent credit a deposit before we did: ask the
            # agent (only the real peer gets here: the signature was checked) and retry once.
            cid = envelope["body"]["channel"]
            try:
                summary = await self.watcher.summary(cid)
            except httpx.HTTPError:
                raise refusal from None
            if summary is None:
                raise refusal from None
            await run_db(self.watcher.sync, cid, summary)
            payment = await run_db(self.accept_package, envelope, message)
        if payment.answered:
            return {"accepted": True, "response": payment.response, "error": payment.error}
        # An async callback: the payment is recorded; answer, then record the answer.
        response: Any = None
        error: str | None = None
        assert self._callback is not None
        try:
            response = await self._callback(payment.amount, message, payment.channel_id)
            check_message(response)
        except Exception as exc:  # the callback's error goes back to the payer
            response, error = None, str(exc)[:500] or type(exc).__name__
        await run_db(self._answer, payment.id, response, error)
        return {"accepted": True, "response": response, "error": error}
