"""The channels a service writes (a source's, producer's or consumer's own channel; the
grid's return channel per consumer), durable across SIGKILL.

Each channel is a restricted MAM channel (security 2, random 81-tryte seed and sideKey,
as the original's ``createChannel(seed, 2, "restricted", sideKey)``). Its writer state
(which holds the seed: never logged, never returned) and an outbox of prepared messages
live in the database. Publishing is two steps:

1. one transaction advances the writer state and records the signed, masked message in
   the outbox (so a Merkle leaf is never used twice and a prepared message is never lost);
2. the message is attached (a zero-value bundle built by shared.iota.wallet_bundle, the
   same bundle PyOTA builds but some 100 times faster); the outbox row is marked attached.

After a crash, :meth:`ChannelBook.flush` attaches whatever step 1 recorded and step 2
did not finish, in order, so the channel's next_root chain never has a hole that would
strand its readers. Attaching the same message twice is harmless (readers take one).

    book = ChannelBook(node, sessions, mwm=9)
    channel = book.ensure("own")                     # created once, reused after restarts
    book.publish("own", Hello())                     # first message of every channel
    channel.root, channel.side_key                   # what readers need
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from shared.energy.messages import EnergyMessage, encode_trytes
from shared.energy.models import EnergyBase, utcnow
from shared.iota.trinary import TRYTE_ALPHABET
from shared.iota.wallet_bundle import build_transfer
from shared.mam.channel import (
    TREE_CACHE_SIZE,
    ChannelState,
    MamMessage,
    channel_root,
    create_channel,
    create_message,
    warm_trees,
)
from shared.mam.tangle import NodeApi

__all__ = ["ChannelBook", "OutboxMessage", "OwnedChannel", "random_trytes"]

log = logging.getLogger("shared.energy.channels")


def random_trytes(length: int = 81) -> str:
    """Cryptographically random trytes (a channel seed or side key)."""
    return "".join(secrets.choice(TRYTE_ALPHABET) for _ in range(length))


class OwnedChannel(EnergyBase):
    """A channel this service writes: its keys (secret) and where its writer stands."""

    __tablename__ = "energy_owned_channels"

    name: Mapped[str] = mapped_column(String(256), primary_key=True)
    root: Mapped[str] = mapped_column(String(81))
    side_key: Mapped[str] = mapped_column(String(81))
    seed: Mapped[str] = mapped_column(String(81))
    start: Mapped[int] = mapped_column(Integer, default=0)
    leaf_index: Mapped[int] = mapped_column(Integer, default=0)
    next_root: Mapped[str | None] = mapped_column(String(81), nullable=True)
    published: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:  # never show the seed
        return f"OwnedChannel(name={self.name!r}, root={self.root[:12]}...)"

    def state(self) -> ChannelState:
        state = create_channel(self.seed, 2, "restricted", self.side_key)
        state.start, state.index, state.next_root = self.start, self.leaf_index, self.next_root
        state.validate()
        return state


class OutboxMessage(EnergyBase):
    """A message prepared (leaf spent) and maybe not yet attached."""

    __tablename__ = "energy_channel_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(ForeignKey("energy_owned_channels.name"), index=True)
    root: Mapped[str] = mapped_column(String(81))
    address: Mapped[str] = mapped_column(String(81))
    next_root: Mapped[str] = mapped_column(String(81))
    payload: Mapped[str] = mapped_column(Text)
    attached: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChannelBook:
    """Creates, publishes to and recovers the channels one service writes (blocking calls)."""

    def __init__(
        self,
        node: NodeApi,
        sessions: sessionmaker[Session],
        *,
        depth: int = 3,
        mwm: int = 9,
        tag: str = "P9TO9P9ENERGY9POC",
    ) -> None:
        self.node = node
        self.sessions = sessions
        if len(tag) > 27 or not all(c in TRYTE_ALPHABET for c in tag):
            raise ValueError("the tag must be at most 27 trytes (9A-Z)")
        self.depth = depth
        self.mwm = mwm
        self.tag = tag
        self._lock = threading.Lock()

    def get(self, name: str) -> OwnedChannel | None:
        with self.sessions() as session:
            return session.get(OwnedChannel, name)

    def exists(self, session: Session, name: str) -> bool:
        """Whether the channel ``name`` exists, in the caller's transaction."""
        return session.get(OwnedChannel, name) is not None

    def existing(self, session: Session, names: list[str]) -> set[str]:
        """Which of ``names`` are channels, in the caller's transaction (one query)."""
        if not names:
            return set()
        return set(session.scalars(select(OwnedChannel.name).where(OwnedChannel.name.in_(names))))

    def warm(self, names: list[str] | None = None) -> int:
        """Derive ahead the keys of the next message of each channel (every open one by
        default), so publishing it later is about three times cheaper; how many. At most
        as many channels as the tree cache holds two trees for: more would evict the
        trees warmed first, spending CPU for nothing."""
        with self.sessions() as session:
            query = select(OwnedChannel).where(OwnedChannel.closed.is_(False))
            if names is not None:
                query = query.where(OwnedChannel.name.in_(names))
            query = query.order_by(OwnedChannel.name).limit(TREE_CACHE_SIZE // 2)
            states = [row.state() for row in session.scalars(query)]
        for state in states:
            warm_trees(state)
        return len(states)

    def ensure(self, name: str) -> OwnedChannel:
        """The channel called ``name``, created (random seed and sideKey) if it is new."""
        with self._lock, self.sessions.begin() as session:
            row = session.get(OwnedChannel, name)
            if row is not None:
                return row
            seed, side_key = random_trytes(), random_trytes()
            state = create_channel(seed, 2, "restricted", side_key)
            row = OwnedChannel(
                name=name,
                root=channel_root(state),
                side_key=side_key,
                seed=seed,
                start=state.start,
                leaf_index=state.index,
            )
            session.add(row)
        log.info("event=channel_created name=%s root=%s", name, row.root)
        return row

    def prepare(self, session: Session, name: str, message: EnergyMessage) -> OutboxMessage:
        """Advance the channel and queue ``message`` inside the caller's transaction.

        Use it to make publishing atomic with the caller's own records (the grid books a
        payment request and queues it in one commit); :meth:`flush` attaches it.
        """
        row = session.get(OwnedChannel, name, with_for_update=True)
        if row is None:
            raise KeyError(f"no channel called {name!r}")
        state = row.state()
        created: MamMessage = create_message(state, encode_trytes(message))
        row.start, row.leaf_index, row.next_root = state.start, state.index, state.next_root
        row.published += 1
        queued = OutboxMessage(
            channel=name,
            root=created.root,
            address=created.address,
            next_root=created.next_root,
            payload=created.payload,
        )
        session.add(queued)
        return queued

    def publish(self, name: str, message: EnergyMessage) -> str:
        """Prepare, commit and attach ``message``; its root. A failed attach stays queued
        for :meth:`flush` (the error propagates)."""
        with self.sessions.begin() as session:
            queued = self.prepare(session, name, message)
            session.flush()
            queued_id, root = queued.id, queued.root
        self._attach(queued_id)
        return root

    def _attach(self, queued_id: int) -> None:
        with self.sessions() as session:
            queued = session.get(OutboxMessage, queued_id)
            if queued is None or queued.attached:
                return
            message = MamMessage(queued.payload, queued.root, queued.address, queued.next_root)
        trytes = build_transfer(
            to=message.address,
            value=0,
            tag=self.tag,
            message=message.payload,
            inputs=[],
            seed="9" * 81,  # no input signs: a zero-value bundle
            security=2,
            remainder=None,
            timestamp=int(time.time()),
        )
        # head first, as attachToTangle takes them (and as PyOTA sent them)
        self.node.send_trytes(list(reversed(trytes)), self.depth, self.mwm)
        log.info("event=mam_attached address=%s root=%s", message.address, message.root)
        with self.sessions.begin() as session:
            queued = session.get(OutboxMessage, queued_id)
            if queued is not None:
                queued.attached = True

    def pending(self) -> list[int]:
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(OutboxMessage.id)
                    .where(OutboxMessage.attached.is_(False))
                    .order_by(OutboxMessage.id)
                )
            )

    def flush(self, workers: int = 1) -> int:
        """Attach every queued message not attached yet (oldest first, ``workers`` at a
        time: readers follow next_root, so messages of one channel may land in any
        order); how many. NodeApiError propagates (the rest stay queued)."""
        pending = self.pending()
        if workers <= 1 or len(pending) <= 1:
            for queued_id in pending:
                self._attach(queued_id)
            return len(pending)
        with ThreadPoolExecutor(min(workers, len(pending))) as pool:
            list(pool.map(self._attach, pending))
        return len(pending)
