"""A service's own restricted MAM channel whose messages survive a crash: the outbox.

Sources, producers and consumers of seed 001 each write one channel (security 2,
restricted, a random seed and an 81-tryte side key, as the original). What makes it safe:

- The channel (seed, side key, Merkle position) is a row of the service's database. The
  seed and side key never leave it except as the side key given to the registrant's
  reader; ``repr`` hides them and nothing logs them.
- :meth:`ChannelOutbox.enqueue` signs the next message *and* advances the position in the
  caller's transaction, so a message is either stored with its leaf or neither happened.
  (Signing first and storing later could burn a leaf without a message and leave a hole
  in the chain that every reader would wait at forever.) The caller records what the
  message is about (a slice, a goodbye) in the same transaction: no slice published
  twice or lost.
- :class:`OutboxSender` attaches stored messages in order, retrying with backoff while the
  node is down; attaching again after a crash is harmless (readers take the first copy).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import secrets
import threading
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, select, update
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from shared.db import run_db
from shared.mam.channel import ChannelState, MamMessage, channel_root, create_channel
from shared.mam.codec import json_to_trytes
from shared.mam.errors import MamError
from shared.mam.tangle import ChannelWriter, NodeApi
from shared.retry import Backoff

__all__ = [
    "ChannelInfo",
    "ChannelOutbox",
    "OutboxBase",
    "OutboxMessage",
    "OutboxSender",
    "WriterChannel",
    "random_trytes",
]

log = logging.getLogger("energy.outbox")

_TRYTES = "9ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def random_trytes(length: int = 81) -> str:
    """Random trytes from the operating system's CSPRNG (seeds, side keys)."""
    return "".join(secrets.choice(_TRYTES) for _ in range(length))


def _now() -> datetime:
    return datetime.now(UTC)


class OutboxBase(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True)}  # noqa: RUF012


class WriterChannel(OutboxBase):
    """One channel this service writes; holds secrets (seed, side key): never log a row."""

    __tablename__ = "energy_writer_channels"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    registration_id: Mapped[str] = mapped_column(String(64))
    seed: Mapped[str] = mapped_column(String(81))
    side_key: Mapped[str] = mapped_column(String(81))
    security: Mapped[int] = mapped_column(Integer)
    root: Mapped[str] = mapped_column(String(81))
    start: Mapped[int] = mapped_column(Integer, default=0)
    leaf_count: Mapped[int] = mapped_column(Integer, default=1)
    next_count: Mapped[int] = mapped_column(Integer, default=1)
    leaf_index: Mapped[int] = mapped_column(Integer, default=0)
    messages: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=_now)

    def __repr__(self) -> str:
        return f"WriterChannel(name={self.name!r}, root={self.root[:12]}..., closed={self.closed})"

    def state(self) -> ChannelState:
        state = create_channel(self.seed, self.security, "restricted", self.side_key)
        state.start, state.count = self.start, self.leaf_count
        state.next_count, state.index = self.next_count, self.leaf_index
        state.validate()
        return state


class OutboxMessage(OutboxBase):
    """A signed message of a channel, stored before it is attached."""

    __tablename__ = "energy_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(ForeignKey("energy_writer_channels.name"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    command: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
    root: Mapped[str] = mapped_column(String(81))
    address: Mapped[str] = mapped_column(String(81))
    next_root: Mapped[str] = mapped_column(String(81))
    attached: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(default=_now)
    attached_at: Mapped[datetime | None] = mapped_column(nullable=True)

    def mam_message(self) -> MamMessage:
        return MamMessage(self.payload, self.root, self.address, self.next_root)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclasses.dataclass(frozen=True, slots=True)
class ChannelInfo:
    """What a reader needs (root and side key) and the registration id of this service."""

    name: str
    registration_id: str
    root: str
    side_key: str = dataclasses.field(repr=False)
    closed: bool
    messages: int


def _info(row: WriterChannel) -> ChannelInfo:
    return ChannelInfo(
        row.name, row.registration_id, row.root, row.side_key, row.closed, row.messages
    )


class ChannelOutbox:
    """The channel ``name`` of this service and its stored messages."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        name: str,
        *,
        registration_id: str | None = None,
        security: int = 2,
    ) -> None:
        self.sessions = sessions
        self.name = name
        self.security = security
        self._registration_id = registration_id
        self._lock = threading.Lock()
        engine = sessions.kw.get("bind")
        if engine is not None:
            OutboxBase.metadata.create_all(engine)

    def open(self) -> ChannelInfo:
        """The channel, created at the first call (random seed and side key)."""
        with self.sessions.begin() as session:
            row = session.get(WriterChannel, self.name)
            if row is None:
                seed, side_key = random_trytes(), random_trytes()
                state = create_channel(seed, self.security, "restricted", side_key)
                row = WriterChannel(
                    name=self.name,
                    # Stable across restarts: the registration is found again under it.
                    registration_id=self._registration_id or secrets.token_hex(12),
                    seed=seed,
                    side_key=side_key,
                    security=self.security,
                    root=channel_root(state),
                    start=0,
                    leaf_count=1,
                    next_count=1,
                    leaf_index=0,
                    messages=0,
                    closed=False,
                )
                session.add(row)
                log.info("event=channel_created channel=%s root=%s", self.name, row.root)
            elif self._registration_id and row.registration_id != self._registration_id:
                row.registration_id = self._registration_id
            return _info(row)

    def info(self) -> ChannelInfo:
        with self.sessions() as session:
            row = session.get(WriterChannel, self.name)
            if row is None:
                raise LookupError(f"channel {self.name} is not open")
            return _info(row)

    def enqueue(self, session: Session, body: dict[str, Any]) -> OutboxMessage:
        """Sign ``body`` as the channel's next message and store it, in ``session``'s
        transaction (the caller commits). MamError once the channel said goodbye."""
        with self._lock:
            row = session.get(WriterChannel, self.name, with_for_update=True)
            if row is None:
                raise LookupError(f"channel {self.name} is not open")
            if row.closed:
                raise MamError(f"channel {self.name} said goodbye; it takes no more messages")
            state = row.state()
            before = (state.start, state.count, state.index)
            created = _create(state, body)
            moved = session.execute(
                update(WriterChannel)
                .where(WriterChannel.name == self.name)
                .where(WriterChannel.start == before[0])
                .where(WriterChannel.leaf_count == before[1])
                .where(WriterChannel.leaf_index == before[2])
                .values(
                    start=state.start,
                    leaf_count=state.count,
                    next_count=state.next_count,
                    leaf_index=state.index,
                    messages=WriterChannel.messages + 1,
                    closed=body.get("command") == "goodbye",
                )
                .execution_options(synchronize_session=False)
            )
            if moved.rowcount != 1:
                raise MamError(f"channel {self.name} advanced elsewhere; try again")
            message = OutboxMessage(
                channel=self.name,
                sequence=row.messages,
                command=str(body.get("command", "usage")),
                body=json.dumps(body, separators=(",", ":")),
                payload=created.payload,
                root=created.root,
                address=created.address,
                next_root=created.next_root,
            )
            session.add(message)
            session.flush()
            session.expire(row)
            return message

    def publish(self, body: dict[str, Any]) -> OutboxMessage:
        """``enqueue`` in a transaction of its own."""
        with self.sessions.begin() as session:
            return self.enqueue(session, body)

    def pending(self, limit: int = 50) -> list[OutboxMessage]:
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.channel == self.name, OutboxMessage.attached.is_(False))
                    .order_by(OutboxMessage.sequence)
                    .limit(limit)
                )
            )

    def mark_attached(self, message_id: int) -> None:
        with self.sessions.begin() as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .values(attached=True, attached_at=_now())
            )

    def is_attached(self, command: str) -> bool:
        """True once a message with ``command`` (e.g. hello) is on the tangle."""
        with self.sessions() as session:
            return (
                session.scalar(
                    select(OutboxMessage.id)
                    .where(
                        OutboxMessage.channel == self.name,
                        OutboxMessage.command == command,
                        OutboxMessage.attached.is_(True),
                    )
                    .limit(1)
                )
                is not None
            )

    def has(self, command: str) -> bool:
        with self.sessions() as session:
            return (
                session.scalar(
                    select(OutboxMessage.id)
                    .where(OutboxMessage.channel == self.name, OutboxMessage.command == command)
                    .limit(1)
                )
                is not None
            )

    def recent(self, limit: int = 50) -> list[OutboxMessage]:
        with self.sessions() as session:
            rows = session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.channel == self.name)
                .order_by(OutboxMessage.sequence.desc())
                .limit(limit)
            )
            return list(rows)


def _create(state: ChannelState, body: dict[str, Any]) -> MamMessage:
    from shared.mam.channel import create_message

    return create_message(state, json_to_trytes(body))


class OutboxSender:
    """Attaches an outbox's messages in order; ``wake()`` after enqueueing."""

    def __init__(
        self,
        outbox: ChannelOutbox,
        node_url: str,
        *,
        depth: int = 3,
        mwm: int = 9,
        tag: str = "P9TO9P9ENERGY9POC",
        idle: float = 5.0,
    ) -> None:
        self.outbox = outbox
        self.node_url = node_url
        self.depth = depth
        self.mwm = mwm
        self.tag = tag
        self.idle = idle
        self._wake = asyncio.Event()
        self.attached = 0
        self.last_error: str | None = None

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        backoff = Backoff(0.2, 10.0)
        node = NodeApi(self.node_url, timeout=30)
        try:
            while True:
                self._wake.clear()
                pending = await run_db(self.outbox.pending)
                if not pending:
                    try:
                        await asyncio.wait_for(self._wake.wait(), self.idle)
                    except TimeoutError:
                        pass
                    continue
                for message in pending:
                    try:
                        await asyncio.to_thread(self._attach, node, message)
                    except Exception as error:
                        self.last_error = f"{type(error).__name__}: {error}"[:200]
                        log.warning(
                            "event=outbox_attach_failed channel=%s sequence=%d error=%s",
                            self.outbox.name,
                            message.sequence,
                            type(error).__name__,
                        )
                        await backoff.sleep()
                        break
                    backoff.reset()
                    self.last_error = None
                    await run_db(self.outbox.mark_attached, message.id)
                    self.attached += 1
                    log.info(
                        "event=outbox_attached channel=%s sequence=%d command=%s",
                        self.outbox.name,
                        message.sequence,
                        message.command,
                    )
        finally:
            node.close()

    def _attach(self, node: NodeApi, message: OutboxMessage) -> None:
        # A dummy state: attach() only needs the node, the tag and the prepared message.
        state = create_channel("9" * 81, 1, "public")
        writer = ChannelWriter(node, state, depth=self.depth, mwm=self.mwm, tag=self.tag)
        writer.attach(message.mam_message())

    async def wait_attached(self, command: str, timeout: float | None = None) -> None:
        """Until a ``command`` message is on the tangle (e.g. hello before registering)."""

        async def poll() -> None:
            while not await run_db(self.outbox.is_attached, command):
                await asyncio.sleep(0.2)

        await asyncio.wait_for(poll(), timeout)
