"""What every seed-001 writer does with its own channel: a source, a producer, a consumer.

A :class:`Participant` owns one restricted channel (``shared.energy.channels``), a stable
registration id, and the end of the last slice it published, all in the service's database:

1. :meth:`Participant.setup` creates the channel once, publishes ``hello`` first (the
   seed's sequence) and attaches whatever a crash left queued;
2. :meth:`Participant.register` registers the channel upstream (``PUT
   {url}/registration/{id}``) once ``hello`` is on the tangle, retrying until it is taken;
3. :meth:`Participant.publish_slice` queues one message per slice in the transaction that
   moves ``last_slice_end``: after a SIGKILL no slice is published twice or skipped;
4. :meth:`Participant.retire` says ``goodbye`` and deregisters, for good.

Blocking methods run in a worker thread (``shared.db.run_db``); the async ones do that.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, InitVar, dataclass, field
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from shared.energy.channels import ChannelBook
from shared.energy.client import (
    RegistrationAnswer,
    RegistrationClient,
    RegistrationError,
    RegistrationRejected,
)
from shared.energy.messages import EnergyMessage, Goodbye, Hello
from shared.energy.models import STORE, EnergyBase, utcnow
from shared.energy.slices import Slice, now_ms, slice_at
from shared.mam.tangle import NodeApi
from shared.migrations import upgrade
from shared.retry import Backoff

__all__ = ["OWN_CHANNEL", "Participant", "ParticipantRecord", "ParticipantState"]

log = logging.getLogger("energy.participant")

OWN_CHANNEL = "own"
# After a long outage, at most this many missed slices are published (then it moves on).
DEFAULT_CATCH_UP = 60


class ParticipantRecord(EnergyBase):
    """This service as a seed-001 participant: its registration id and progress."""

    __tablename__ = "energy_participant"

    channel: Mapped[str] = mapped_column(String(64), primary_key=True)
    registration_id: Mapped[str] = mapped_column(String(256))
    last_slice_end: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    slices_published: Mapped[int] = mapped_column(Integer, default=0)
    registered_at: Mapped[datetime | None] = mapped_column(nullable=True)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    # The channel the upstream answered with (the grid's return channel for a consumer).
    answer_root: Mapped[str | None] = mapped_column(String(81), nullable=True)
    answer_side_key: Mapped[str | None] = mapped_column(String(81), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass(frozen=True, slots=True)
class ParticipantState:
    """What the service shows about its channel (the side key is for its readers only)."""

    registration_id: str
    root: str
    side_key: str = field(repr=False)
    last_slice_end: int | None
    slices_published: int
    registered: bool
    retired: bool
    pending: int


@dataclass(eq=False)
class Participant:
    """One service's own channel, registration and slice progress (see module docstring)."""

    sessions: sessionmaker[Session]
    node: NodeApi
    _: KW_ONLY
    item_name: str
    item_type: str
    role: str | None = None
    slice_seconds: float
    upstream_url: str | None = None
    registration_id: InitVar[str | None] = None
    depth: InitVar[int] = 3
    mwm: InitVar[int] = 9
    catch_up: int = DEFAULT_CATCH_UP
    clock: Callable[[], int] = now_ms
    book: ChannelBook = field(init=False)
    registered: asyncio.Event = field(init=False, default_factory=asyncio.Event)
    # One writer of the channel at a time: SQLite ignores FOR UPDATE, and two
    # transactions that read the same Merkle position would sign two messages with
    # one leaf (readers would see only one of them).
    _write: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self, registration_id: str | None, depth: int, mwm: int) -> None:
        self._wanted_id = registration_id
        self.book = ChannelBook(self.node, self.sessions, depth=depth, mwm=mwm)
        bind = self.sessions.kw.get("bind")
        if bind is not None:
            upgrade(bind, STORE)

    # -- blocking ----------------------------------------------------------

    def setup(self) -> ParticipantState:
        """Create the channel and identity once; queue ``hello`` first; attach the queue.

        NodeApiError (the node is down) propagates; call again later, nothing is lost.
        """
        self.book.ensure(OWN_CHANNEL)
        with self._write, self.sessions.begin() as session:
            record = session.get(ParticipantRecord, OWN_CHANNEL, with_for_update=True)
            if record is None:
                record = ParticipantRecord(
                    channel=OWN_CHANNEL,
                    registration_id=self._wanted_id or secrets.token_hex(12),
                    slices_published=0,
                    retired=False,
                )
                session.add(record)
                # hello is the channel's first message, queued with the identity.
                self.book.prepare(session, OWN_CHANNEL, Hello())
            elif self._wanted_id and record.registration_id != self._wanted_id:
                record.registration_id = self._wanted_id
        self.book.flush()
        return self.state()

    def state(self) -> ParticipantState:
        channel = self.book.get(OWN_CHANNEL)
        with self.sessions() as session:
            record = session.get(ParticipantRecord, OWN_CHANNEL)
        if channel is None or record is None:
            raise LookupError("the participant is not set up yet")
        return ParticipantState(
            registration_id=record.registration_id,
            root=channel.root,
            side_key=channel.side_key,
            last_slice_end=record.last_slice_end,
            slices_published=record.slices_published,
            registered=record.registered_at is not None,
            retired=record.retired,
            pending=len(self.book.pending()),
        )

    def record(self) -> ParticipantRecord:
        with self.sessions() as session:
            record = session.get(ParticipantRecord, OWN_CHANNEL)
        if record is None:
            raise LookupError("the participant is not set up yet")
        return record

    def due_slices(self, now: int | None = None, delay_ms: int = 0) -> list[Slice]:
        """Slices that ended (``delay_ms`` ago) and are not published, oldest first.

        The first start begins with the slice in progress: a service reports only what
        it saw. A gap longer than ``catch_up`` slices is skipped (and logged).
        """
        moment = (self.clock() if now is None else now) - delay_ms
        record = self.record()
        if record.retired:
            return []
        current = slice_at(moment, self.slice_seconds)
        if record.last_slice_end is None:
            with self.sessions.begin() as session:
                row = session.get(ParticipantRecord, OWN_CHANNEL, with_for_update=True)
                if row is not None and row.last_slice_end is None:
                    row.last_slice_end = current.start
            return []
        first = slice_at(record.last_slice_end, self.slice_seconds)
        due: list[Slice] = []
        cursor = first
        while cursor.end <= moment:
            due.append(cursor)
            cursor = cursor.next()
        if len(due) > self.catch_up:
            log.warning(
                "event=slices_skipped count=%d first=%d", len(due) - self.catch_up, due[0].start
            )
            due = due[-self.catch_up :]
        return due

    def publish_slice(
        self, period: Slice, build: Callable[[Session, Slice], EnergyMessage | None]
    ) -> EnergyMessage | None:
        """Queue ``build(session, period)`` and move past ``period`` in one transaction.

        ``build`` may record what it aggregated in the same session; None publishes
        nothing but still moves on. Already-published slices are ignored.
        """

        def one(session: Session, slot: Slice) -> list[EnergyMessage]:
            message = build(session, slot)
            return [] if message is None else [message]

        messages = self.publish_messages(period, one)
        return messages[0] if messages else None

    def publish_messages(
        self, period: Slice, build: Callable[[Session, Slice], Sequence[EnergyMessage]]
    ) -> list[EnergyMessage]:
        """:meth:`publish_slice` for a party with several things to say about a slice (a
        battery's usage and its offer), queued in order in one transaction."""
        with self._write, self.sessions.begin() as session:
            record = session.get(ParticipantRecord, OWN_CHANNEL, with_for_update=True)
            if record is None or record.retired:
                return []
            if record.last_slice_end is not None and period.end <= record.last_slice_end:
                return []
            messages = list(build(session, period))
            for message in messages:
                self.book.prepare(session, OWN_CHANNEL, message)
            if messages:
                record.slices_published += 1
            record.last_slice_end = period.end
        return messages

    def flush(self) -> int:
        return self.book.flush()

    def mark_registered(self, answer: RegistrationAnswer) -> None:
        with self.sessions.begin() as session:
            record = session.get(ParticipantRecord, OWN_CHANNEL)
            if record is not None:
                record.registered_at = utcnow()
                if answer.root is not None:
                    record.answer_root = answer.root
                    record.answer_side_key = answer.side_key

    def _retire_locally(self) -> bool:
        """Queue goodbye once; False if it already was."""
        with self._write, self.sessions.begin() as session:
            record = session.get(ParticipantRecord, OWN_CHANNEL, with_for_update=True)
            if record is None or record.retired:
                return False
            self.book.prepare(session, OWN_CHANNEL, Goodbye())
            record.retired = True
        return True

    # -- async -------------------------------------------------------------

    async def register(self) -> RegistrationAnswer | None:
        """Register upstream (after ``hello`` is attached), retrying until it is taken.

        Without an upstream URL there is nothing to do (None).
        """
        if self.upstream_url is None:
            return None
        state = await asyncio.to_thread(self.state)
        if state.retired:
            return None
        backoff = Backoff(0.5, 30.0)
        client = RegistrationClient(self.upstream_url)
        try:
            while True:
                try:
                    answer = await client.register(
                        state.registration_id,
                        self.item_name,
                        self.item_type,
                        state.root,
                        state.side_key,
                        role=self.role,
                    )
                except RegistrationRejected as error:
                    # A refusal names a problem a person must fix; keep trying slowly.
                    log.error(
                        "event=registration_refused url=%s status=%d message=%s",
                        self.upstream_url,
                        error.status,
                        error.message[:200],
                    )
                except RegistrationError as error:
                    log.warning(
                        "event=registration_failed url=%s error=%s",
                        self.upstream_url,
                        str(error)[:200],
                    )
                else:
                    await asyncio.to_thread(self.mark_registered, answer)
                    self.registered.set()
                    log.info(
                        "event=registered url=%s registration=%s item_type=%s",
                        self.upstream_url,
                        state.registration_id,
                        self.item_type,
                    )
                    return answer
                await backoff.sleep()
        finally:
            await client.aclose()

    async def retire(self) -> bool:
        """Say ``goodbye`` on the channel, attach it and deregister upstream; False if the
        participant had already retired. The channel takes no more messages."""
        if not await asyncio.to_thread(self._retire_locally):
            return False
        await asyncio.to_thread(self.book.flush)
        state = await asyncio.to_thread(self.state)
        log.info("event=goodbye registration=%s", state.registration_id)
        if self.upstream_url is not None:
            client = RegistrationClient(self.upstream_url)
            try:
                await client.deregister(state.registration_id, state.side_key)
            except RegistrationRejected as error:
                if error.status != 404:
                    raise
            finally:
                await client.aclose()
        return True
