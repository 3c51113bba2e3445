"""Pay-per-use (issue 23): the controller sells minutes of a tool over payment channels.

The controller is a channel node (seed 003, docs/channels.md): a payer (a member's node, a
robot) opens a channel to it, the tools' owner, and pays with the message
``{"tool_id": N}``. Each payment buys ``amount * LOCK_MINUTE_SECONDS / price_per_minute``
seconds of the tool, appended to the end of the payer's session (never to the present, so
no minute is sold twice). The first payment of a session unlocks the tool over MQTT
(seed 004's topics, the device's echo confirming it) before it is answered; the answer
tells the payer the time left. A payment that buys nothing (too small, the tool free,
member-only, unknown or in someone else's hands) is answered with the callback's error,
and the lock does not move: the channel node still counts it (its package is signed and
valid, seed 003's rule), and it is kept in ``tool_payments`` as ``refused``.

The watcher loop (:meth:`PaidAccess.run`) locks a tool ``LOCK_GRACE_SECONDS`` after its
paid time ran out, or after the payer's channel started closing; after a restart of the
controller it asks the devices to republish their lock states (``refresh``), keeps an
active session's lock open and locks a paid tool nobody pays for.

Exactly-once: the payment and its session credit are two databases (the channel node's,
then the controller's). The callback finds the channel node's row of the payment it
answers (the channel's unanswered payment: a payer sends one at a time per channel and an
unanswered one again, identical, before any new one) and keys its credit on that row's
id, so a payment sent again after a crash gets the stored answer and buys nothing twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from services.lock.db import Checkout, PaidSession, Tool, ToolPayment, utc, utcnow
from services.lock.link import CommandFailed
from services.lock.views import record
from shared.channels.node import ChannelConfig, ChannelError, ChannelNode
from shared.channels.router import PEER_PREFIX
from shared.channels.store import ReceivedPayment
from shared.db import make_engine, run_db
from shared.mqtt.client import MqttError

if TYPE_CHECKING:
    from services.lock.controller import Controller

__all__ = ["PEER_PREFIX", "PaidAccess", "Refused"]

log = logging.getLogger("services.lock.paid")


class Refused(Exception):
    """The payment buys nothing; the text goes back to the payer as the callback's error."""


@dataclass(frozen=True)
class _Tool:
    id: int
    name: str
    device_prefix: str
    device_id: str
    lock_index: int


@dataclass(frozen=True)
class _Credit:
    answer: dict[str, Any]
    unlock: bool  # a new session: unlock before answering
    tool: _Tool
    session_id: int
    received_id: int


def _ref(tool: Tool) -> _Tool:
    return _Tool(tool.id, tool.name, tool.device_prefix, tool.device_id, tool.lock_index)


def channel_key(seed: str, key_hex: str | None) -> Ed25519PrivateKey:
    """``LOCK_CHANNEL_KEY``, else one derived from the seed (no second secret to keep)."""
    if key_hex is not None:
        return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(key_hex))
    return Ed25519PrivateKey.from_private_bytes(
        hashlib.sha256(f"machine-economy/lock-channel-key/v1/{seed}".encode()).digest()
    )


def _tool_id(message: Any) -> int:
    value = message.get("tool_id") if isinstance(message, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 2**31:
        raise Refused("refused: the message must name the tool: {'tool_id': N}")
    return value


class PaidAccess:
    """The controller's channel node, its payment callback and the session watcher."""

    def __init__(self, controller: Controller) -> None:
        from shared.iota.wallet import Wallet  # PyOTA: only when pay-per-use is on

        settings = controller.settings
        assert settings.lock_channel_seed is not None
        seed = settings.lock_channel_seed.get_secret_value()
        key_hex = (
            settings.lock_channel_key.get_secret_value() if settings.lock_channel_key else None
        )
        self.controller = controller
        self.minute = settings.lock_minute_seconds
        self.grace = settings.lock_grace_seconds
        # A few ticks per grace period and per minute, never busier than 20 a second.
        self.interval = max(0.05, min(1.0, self.grace / 4 or 1.0, self.minute / 10))
        engine = make_engine(settings.channel_database())
        self.wallet = Wallet(
            seed,
            settings.lock_channel_node_url,
            engine,
            min_weight_magnitude=settings.lock_channel_mwm,
            request_timeout=15.0,
        )
        public = settings.lock_channel_public_url or f"http://127.0.0.1:{settings.port}"
        self.node = ChannelNode(
            channel_key(seed, key_hex),
            engine,
            ChannelConfig(
                agent_url=settings.lock_channel_node_url,
                public_url=public.rstrip("/") + PEER_PREFIX,
                min_timeout=settings.lock_channel_min_timeout,
                watch_interval=settings.lock_channel_watch_interval,
                name=settings.name,
            ),
            self.wallet,
        )
        self.node.on_payment(self.paid)
        self._closing_seen: dict[int, datetime] = {}  # session -> when its channel closed
        self._retry_at: dict[int, float] = {}  # tool -> next reconcile attempt (monotonic)
        self._online: dict[str, bool | None] = {}  # device prefix -> last online flag

    # -- the payment callback --------------------------------------------------------

    async def paid(self, amount: int, message: Any, channel_id: str) -> dict[str, Any]:
        """Answer one payment: buy time (unlocking on a session's first payment) or refuse."""
        received_id = await run_db(self._received_id, channel_id)
        try:
            tool_id = _tool_id(message)
            tool = await run_db(self._tool, tool_id)
        except Refused as refusal:
            await run_db(self._refuse, received_id, channel_id, None, amount, str(refusal))
            raise
        async with self.controller.tool_lock(tool.id):
            credit = await run_db(self._credit, received_id, channel_id, tool.id, amount)
            if not credit.unlock:
                return credit.answer
            try:
                echo = await self.controller.link.command(
                    tool.device_prefix,
                    tool.lock_index,
                    "unlock",
                    self.controller.settings.command_timeout,
                )
            except (CommandFailed, MqttError) as error:
                reason = f"refused: the device did not confirm the unlock ({error})"
                await run_db(self._fail, credit, reason)
                raise Refused(reason) from None
            answer = credit.answer | {"request": echo.request}
            await run_db(self._unlocked, credit, answer)
            return answer

    def _received_id(self, channel_id: str) -> int:
        """The channel node's row of the payment being answered (see the module's doc)."""
        with self.node.engine.connect() as conn:
            found = conn.execute(
                select(ReceivedPayment.id)
                .where(
                    ReceivedPayment.channel_id == channel_id, ReceivedPayment.answered.is_(False)
                )
                .order_by(ReceivedPayment.id.desc())
                .limit(1)
            ).scalar()
        if found is None:  # cannot happen with an async callback: the row is written first
            raise Refused("refused: the payment is not recorded")
        return int(found)

    def _tool(self, tool_id: int) -> _Tool:
        with self.controller.sessions() as session:
            tool = session.get(Tool, tool_id)
            if tool is None:
                raise Refused(f"refused: no tool {tool_id}")
            if tool.pricing == "free":
                raise Refused(
                    f"refused: tool {tool.name} is free: check it out with"
                    f" POST /tools/{tool.id}/checkout"
                )
            if tool.pricing != "paid":
                raise Refused(
                    f"refused: tool {tool.name} is for members (POST /tools/{tool.id}/checkout),"
                    " not sold by the minute"
                )
            return _ref(tool)

    def _refuse(
        self, received_id: int, channel_id: str, tool_id: int | None, amount: int, reason: str
    ) -> None:
        with self.controller.sessions() as session:
            if session.scalar(select(ToolPayment.id).where(ToolPayment.received_id == received_id)):
                return  # a payment sent again: refused already
            session.add(
                ToolPayment(
                    received_id=received_id,
                    channel_id=channel_id,
                    tool_id=tool_id,
                    amount=amount,
                    status="refused",
                    answer=reason,
                )
            )
            record(session, "payment_refused", tool_id=tool_id, detail=f"{amount}: {reason}")
            try:
                session.commit()
            except IntegrityError:  # the same payment answered at once elsewhere
                session.rollback()

    def _credit(self, received_id: int, channel_id: str, tool_id: int, amount: int) -> _Credit:
        """Record the payment and the time it buys, in one transaction; Refused otherwise."""
        payer = self.node.balances_and_status(channel_id)["peer_url"]
        with self.controller.sessions() as session:
            tool = session.get(Tool, tool_id)
            assert tool is not None
            done = session.scalar(select(ToolPayment).where(ToolPayment.received_id == received_id))
            if done is not None:  # sent again after a crash: the same answer, nothing bought
                if done.status != "accepted":
                    raise Refused(done.answer)
                stored = json.loads(done.answer) if done.answer else {}
                return _Credit(stored, False, _ref(tool), done.session_id or 0, received_id)
            now = utcnow()
            price = tool.price_per_minute
            current = session.scalar(
                select(PaidSession).where(
                    PaidSession.tool_id == tool.id, PaidSession.state == "active"
                )
            )
            if current is not None and now > utc(current.paid_until) + timedelta(
                seconds=self.grace
            ):
                # Past its grace: the watcher is about to lock; this payment starts anew.
                current.state, current.ended_at, current.detail = "ended", now, "expired"
                current = None
            if current is not None and current.channel_id != channel_id:
                reason = (
                    f"refused: tool {tool.name} is in use by another payer until"
                    f" {utc(current.paid_until).isoformat()}"
                )
                session.rollback()
                self._refuse(received_id, channel_id, tool.id, amount, reason)
                raise Refused(reason)
            if current is None and session.get(Checkout, tool.id) is not None:
                reason = f"refused: tool {tool.name} is checked out by a member"
                session.rollback()
                self._refuse(received_id, channel_id, tool.id, amount, reason)
                raise Refused(reason)
            least = price * (tool.min_minutes if current is None else 1)
            if amount < least:
                what = (
                    f"the minimum of {tool.min_minutes} minute(s)"
                    if current is None
                    else "a minute"
                )
                reason = (
                    f"refused: {amount} is less than {what} of tool {tool.name}"
                    f" at {price} a minute: pay at least {least}"
                )
                session.rollback()
                self._refuse(received_id, channel_id, tool.id, amount, reason)
                raise Refused(reason)
            seconds = amount * self.minute / price
            new = current is None
            if current is None:
                current = PaidSession(
                    tool_id=tool.id,
                    channel_id=channel_id,
                    payer=str(payer)[:500],
                    started_at=now,
                    paid_until=now,
                    paid=0,
                    seconds=0.0,
                    minutes=0.0,
                    state="active",
                    detail="",
                )
                session.add(current)
            current.paid += amount
            current.seconds += seconds
            current.minutes += amount / price
            current.paid_until = utc(current.started_at) + timedelta(seconds=current.seconds)
            session.flush()
            left = (utc(current.paid_until) - now).total_seconds()
            answer: dict[str, Any] = {
                "tool_id": tool.id,
                "tool": tool.name,
                "session": current.id,
                "state": "unlocked",
                "paid": amount,
                "bought_seconds": round(seconds, 3),
                "seconds_left": round(max(0.0, left), 3),
                "minutes_left": round(max(0.0, left) / self.minute, 3),
                "paid_until": utc(current.paid_until).isoformat(),
                "grace_seconds": self.grace,
            }
            session.add(
                ToolPayment(
                    received_id=received_id,
                    channel_id=channel_id,
                    tool_id=tool.id,
                    session_id=current.id,
                    amount=amount,
                    status="accepted",
                    seconds=seconds,
                    answer=json.dumps(answer),
                )
            )
            if not new:
                record(session, "paid_extended", tool_id=tool.id, detail=f"{amount}: {left:.1f}s")
            session.commit()
            return _Credit(answer, new, _ref(tool), current.id, received_id)

    def _fail(self, credit: _Credit, reason: str) -> None:
        with self.controller.sessions() as session:
            paid = session.get(PaidSession, credit.session_id)
            if paid is not None:
                paid.state, paid.ended_at, paid.detail = "failed", utcnow(), reason
            payment = session.scalar(
                select(ToolPayment).where(ToolPayment.received_id == credit.received_id)
            )
            if payment is not None:
                payment.status, payment.answer, payment.seconds = "refused", reason, 0.0
            record(session, "unlock_failed", tool_id=credit.tool.id, detail=reason)
            session.commit()

    def _unlocked(self, credit: _Credit, answer: dict[str, Any]) -> None:
        with self.controller.sessions() as session:
            payment = session.scalar(
                select(ToolPayment).where(ToolPayment.received_id == credit.received_id)
            )
            if payment is not None:
                payment.answer = json.dumps(answer)
            record(
                session,
                "paid_unlock",
                tool_id=credit.tool.id,
                request_id=answer.get("request"),
                detail=f"session {credit.session_id}: {answer['seconds_left']}s",
            )
            session.commit()

    # -- the watcher -------------------------------------------------------------

    async def run(self) -> None:
        """Lock what is no longer paid for, keep open what is (run under a Supervisor)."""
        for prefix in await run_db(self._paid_prefixes):
            await self._refresh(prefix)
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:  # one bad round must not stop the watcher
                log.exception("event=paid_tick_failed")
            await asyncio.sleep(self.interval)

    def _paid_prefixes(self) -> list[str]:
        with self.controller.sessions() as session:
            return sorted(
                set(session.scalars(select(Tool.device_prefix).where(Tool.pricing == "paid")))
            )

    async def _refresh(self, prefix: str) -> None:
        try:
            await self.controller.link.refresh(prefix)
            log.info("event=paid_refresh prefix=%s", prefix)
        except MqttError as error:
            log.warning("event=paid_refresh_failed prefix=%s error=%s", prefix, error)

    def _snapshot(self) -> tuple[list[tuple[int, str, datetime, _Tool]], list[_Tool]]:
        """Active sessions (id, channel, paid until, tool) and paid tools without one."""
        with self.controller.sessions() as session:
            active = [
                (s.id, s.channel_id, utc(s.paid_until), _ref(t))
                for s, t in session.execute(
                    select(PaidSession, Tool)
                    .join(Tool, Tool.id == PaidSession.tool_id)
                    .where(PaidSession.state == "active")
                ).tuples()
            ]
            busy = {tool.id for _, _, _, tool in active}
            held = set(session.scalars(select(Checkout.tool_id)))
            idle = [
                _ref(t)
                for t in session.scalars(select(Tool).where(Tool.pricing == "paid"))
                if t.id not in busy and t.id not in held
            ]
        return active, idle

    def _channel_open(self, channel_id: str) -> bool:
        try:
            return self.node.balances_and_status(channel_id)["status"] == "open"
        except ChannelError:
            return False

    def _lock_state(self, tool: _Tool) -> str | None:
        state = self.controller.link.state(tool.device_prefix)
        lock = state.locks.get(tool.lock_index) if state else None
        return lock.state if lock else None

    def _device_online(self, tool: _Tool) -> bool | None:
        device = self.controller.link.device(tool.device_prefix, tool.device_id)
        return device.online if device else None

    async def tick(self) -> None:
        active, idle = await run_db(self._snapshot)
        for tool in [t for *_, t in active] + idle:
            # A device back online (restarted): re-read its locks (seed 004's refresh).
            online = self._device_online(tool)
            if online and self._online.get(tool.device_prefix) is False:
                await self._refresh(tool.device_prefix)
            self._online[tool.device_prefix] = online
        now = utcnow()
        for session_id, channel_id, paid_until, tool in active:
            deadline = paid_until + timedelta(seconds=self.grace)
            reason = "paid time over"
            if not await run_db(self._channel_open, channel_id):
                closed = self._closing_seen.setdefault(session_id, now)
                if closed + timedelta(seconds=self.grace) < deadline:
                    deadline, reason = closed + timedelta(seconds=self.grace), "channel closed"
            if now >= deadline:
                await self._end(session_id, tool, reason)
            elif self._lock_state(tool) == "locked" and self._due(tool):
                # The device restarted (it boots locked) during a paid session: open again.
                await self._keep_unlocked(session_id, tool)
        for tool in idle:
            if self._lock_state(tool) == "unlocked" and self._due(tool):
                await self._lock_idle(tool)

    def _due(self, tool: _Tool) -> bool:
        """At most one reconcile command per tool per COMMAND_TIMEOUT."""
        now = time.monotonic()
        if self._retry_at.get(tool.id, 0.0) > now:
            return False
        self._retry_at[tool.id] = now + self.controller.settings.command_timeout
        return True

    async def _command(self, tool: _Tool, command: str) -> str | None:
        """The echo's request id, or None (logged) when the device did not confirm."""
        try:
            echo = await self.controller.link.command(
                tool.device_prefix,
                tool.lock_index,
                command,
                self.controller.settings.command_timeout,
            )
        except (CommandFailed, MqttError) as error:
            log.warning("event=paid_%s_failed tool=%d error=%s", command, tool.id, error)
            return None
        return echo.request

    async def _end(self, session_id: int, tool: _Tool, reason: str) -> None:
        async with self.controller.tool_lock(tool.id):
            # Re-read under the tool's lock: a payment may just have extended the session.
            if not await run_db(self._still_due, session_id, reason):
                return
            request: str | None = None
            if self._device_online(tool) is not False:
                request = await self._command(tool, "lock")
                if request is None:
                    return  # tried again next round
            else:
                reason += "; device offline (it boots locked; locked when it is back)"
            await run_db(self._ended, session_id, tool, reason, request)
        self._closing_seen.pop(session_id, None)

    def _still_due(self, session_id: int, reason: str) -> bool:
        with self.controller.sessions() as session:
            paid = session.get(PaidSession, session_id)
            if paid is None or paid.state != "active":
                return False
            if reason == "channel closed":
                return True
            deadline = utc(paid.paid_until) + timedelta(seconds=self.grace)
            return utcnow() >= deadline

    def _ended(self, session_id: int, tool: _Tool, reason: str, request: str | None) -> None:
        with self.controller.sessions() as session:
            paid = session.get(PaidSession, session_id)
            if paid is None:
                return
            paid.state, paid.ended_at, paid.detail = "ended", utcnow(), reason
            record(
                session,
                "paid_lock",
                tool_id=tool.id,
                request_id=request,
                detail=f"session {session_id}: {reason}",
            )
            session.commit()

    async def _keep_unlocked(self, session_id: int, tool: _Tool) -> None:
        async with self.controller.tool_lock(tool.id):
            if await run_db(self._still_active, session_id) and self._lock_state(tool) == "locked":
                request = await self._command(tool, "unlock")
                log.info(
                    "event=paid_unlock_again tool=%d session=%d request=%s",
                    tool.id,
                    session_id,
                    request,
                )

    def _still_active(self, session_id: int) -> bool:
        with self.controller.sessions() as session:
            paid = session.get(PaidSession, session_id)
            return paid is not None and paid.state == "active"

    async def _lock_idle(self, tool: _Tool) -> None:
        async with self.controller.tool_lock(tool.id):
            if await run_db(self._nobody_pays, tool.id) and self._lock_state(tool) == "unlocked":
                request = await self._command(tool, "lock")
                log.info("event=paid_lock_unpaid tool=%d request=%s", tool.id, request)

    def _nobody_pays(self, tool_id: int) -> bool:
        with self.controller.sessions() as session:
            tool = session.get(Tool, tool_id)
            if tool is None or tool.pricing != "paid":
                return False
            if session.get(Checkout, tool_id) is not None:
                return False
            return not session.scalar(
                select(func.count(PaidSession.id)).where(
                    PaidSession.tool_id == tool_id, PaidSession.state == "active"
                )
            )
