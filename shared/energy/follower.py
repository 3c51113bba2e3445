"""Follow a registrant's MAM channel from its root, durably.

``check_hello`` reads the first message at a root and refuses a channel that does not
start with ``{"command":"hello"}`` (the seed's way for a reader to know it subscribed
to the right channel). :class:`ChannelFollower` then reads on from where it stopped:
each message is handed to the caller *inside the transaction that moves the reader
position past it*, so after a crash a message is handled exactly once. ``goodbye``
closes the position (the channel is followed no further); a message that is not a seed
command is logged and skipped, never allowed to stall the channel.

All of it is blocking (the MAM reader is synchronous): call it from a worker thread
(``shared.db.run_db`` or ``asyncio.to_thread``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shared.energy.messages import EnergyMessage, Goodbye, Hello, MessageError, decode_trytes
from shared.energy.models import ReaderPosition, utcnow
from shared.mam.errors import MamError, NodeApiError
from shared.mam.tangle import ChannelReader, FetchedMessage, NodeApi, fetch_many

__all__ = [
    "ChannelFollower",
    "HelloMissing",
    "MessageHandler",
    "PollResult",
    "check_hello",
    "reader_for",
]

log = logging.getLogger("shared.energy.follower")


class HelloMissing(Exception):
    """The channel does not start with ``hello``. ``visible`` is False when no message at
    all is at the root yet (worth retrying), True when another message is there."""

    def __init__(self, message: str, *, visible: bool) -> None:
        super().__init__(message)
        self.visible = visible


def reader_for(node: NodeApi, side_key: str | None) -> ChannelReader:
    """A reader for a restricted channel (with a side key) or a public one (without)."""
    if side_key:
        return ChannelReader(node, "restricted", side_key)
    return ChannelReader(node, "public")


def check_hello(node: NodeApi, root: str, side_key: str | None) -> str:
    """The root after the channel's ``hello``; HelloMissing if the channel does not
    start with it, NodeApiError if the node cannot be asked."""
    fetched = reader_for(node, side_key).fetch(root)
    if fetched is None:
        raise HelloMissing(
            "Unable to initialise mam channel for item, could not find initial 'hello' "
            "command: no message that authenticates with this root and sideKey is on the "
            "tangle yet.",
            visible=False,
        )
    try:
        message = decode_trytes(fetched.message)
    except MessageError as error:
        raise HelloMissing(
            "Unable to initialise mam channel for item, could not find initial 'hello' "
            f"command: the first message is not a command ({error}).",
            visible=True,
        ) from None
    if not isinstance(message, Hello):
        raise HelloMissing(
            "Unable to initialise mam channel for item, could not find initial 'hello' "
            f"command: the first message is '{type(message).__name__.lower()}'.",
            visible=True,
        )
    return fetched.next_root


# (session, registration id, message) -> None; runs in the position's transaction.
MessageHandler = Callable[[Session, str, EnergyMessage], None]


@dataclass(frozen=True, slots=True)
class PollResult:
    handled: int
    skipped: int
    closed: bool


class ChannelFollower:
    """Reads registrants' channels, keeping each one's position in ``energy_reader_positions``."""

    def __init__(self, node: NodeApi, sessions: sessionmaker[Session], *, batch: int = 100) -> None:
        self.node = node
        self.sessions = sessions
        self.batch = batch
        # One reader per channel: polls of this follower (a service's reader loop and, in
        # the grid, the settler's read before pricing) take turns instead of reading and
        # booking the same message at once (SQLite has no row lock: both would insert it).
        self._reading = threading.Lock()

    def start(self, registration_id: str, root: str, side_key: str | None) -> None:
        """Check ``hello`` at ``root`` and (re)start following there; HelloMissing if not.

        Re-registering the same root and key keeps the position already reached.
        """
        after_hello = check_hello(self.node, root, side_key)
        with self.sessions.begin() as session:
            row = session.get(ReaderPosition, registration_id)
            if row is not None and row.root == root and row.side_key == side_key:
                row.closed = False
                return
            if row is None:
                row = ReaderPosition(registration_id=registration_id)
                session.add(row)
            row.root = root
            row.side_key = side_key
            row.next_root = after_hello
            row.messages_read = 1
            row.skipped = 0
            row.closed = False
            row.updated_at = utcnow()

    def stop(self, registration_id: str) -> None:
        """Forget the position (deregistration)."""
        with self.sessions.begin() as session:
            row = session.get(ReaderPosition, registration_id)
            if row is not None:
                session.delete(row)

    def position(self, registration_id: str) -> ReaderPosition | None:
        with self.sessions() as session:
            return session.get(ReaderPosition, registration_id)

    def open_ids(self) -> list[str]:
        """Registrations whose channel is still followed (no ``goodbye`` read)."""
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(ReaderPosition.registration_id).where(ReaderPosition.closed.is_(False))
                )
            )

    def poll(self, registration_id: str, handle: MessageHandler) -> PollResult:
        """Read every new message of one channel (up to ``batch``), handling each in the
        transaction that advances the position. NodeApiError propagates (retry later)."""
        with self._reading:
            return self._poll(registration_id, handle)

    def _poll(self, registration_id: str, handle: MessageHandler) -> PollResult:
        position = self.position(registration_id)
        if position is None or position.closed:
            return PollResult(0, 0, True)
        reader = reader_for(self.node, position.side_key)
        handled = skipped = 0
        current = position.next_root
        for _ in range(self.batch):
            try:
                fetched = reader.fetch(current)
            except MamError as error:
                if isinstance(error, NodeApiError):
                    raise
                log.warning(
                    "event=channel_unreadable registration=%s error=%s", registration_id, error
                )
                return PollResult(handled, skipped, False)
            if fetched is None:
                break
            step = self._apply(registration_id, current, fetched, handle)
            handled += step.handled
            skipped += step.skipped
            if step.closed or step is _STOPPED:
                return PollResult(handled, skipped, step.closed)
            current = fetched.next_root
        return PollResult(handled, skipped, False)

    def poll_all(self, handle: MessageHandler) -> int:
        """Read every open channel, asking the node about all of them at once per round
        (one findTransactions and one getTrytes, :func:`fetch_many`) instead of two or
        three calls per channel; messages handled. Each message is still handled in
        its own position transaction, as in :meth:`poll`; a channel whose handling
        fails is logged and left for the next call. NodeApiError propagates.

        Calls of one follower never overlap (they queue): a caller that asks while
        another reads waits, then reads what is new since."""
        with self._reading:
            return self._poll_all(handle)

    def _poll_all(self, handle: MessageHandler) -> int:
        with self.sessions() as session:
            current = {
                row.registration_id: (reader_for(self.node, row.side_key), row.next_root)
                for row in session.scalars(
                    select(ReaderPosition).where(ReaderPosition.closed.is_(False))
                )
                if row.next_root
            }
        handled = 0
        for _ in range(self.batch):
            if not current:
                break
            ids = list(current)
            results = fetch_many(self.node, [current[rid] for rid in ids])
            following: dict[str, tuple[ChannelReader, str]] = {}
            for rid, fetched in zip(ids, results, strict=True):
                if fetched is None:
                    continue
                reader, root = current[rid]
                try:
                    step = self._apply(rid, root, fetched, handle)
                except Exception as error:
                    log.warning(
                        "event=channel_read_failed registration=%s error=%s",
                        rid,
                        f"{type(error).__name__}: {error}"[:200],
                    )
                    continue
                handled += step.handled
                if not step.closed and step is not _STOPPED:
                    following[rid] = (reader, fetched.next_root)
            current = following
        return handled

    def _apply(
        self, registration_id: str, current: str, fetched: FetchedMessage, handle: MessageHandler
    ) -> PollResult:
        """Handle one fetched message and move the position past it, in one transaction."""
        try:
            message: EnergyMessage | None = decode_trytes(fetched.message)
        except MessageError as error:
            message = None
            log.warning(
                "event=channel_message_skipped registration=%s reason=%s",
                registration_id,
                str(error)[:200],
            )
        with self.sessions.begin() as session:
            row = session.get(ReaderPosition, registration_id, with_for_update=True)
            if row is None or row.closed or row.next_root != current:
                # deregistered or advanced by someone else meanwhile: stop here
                return _STOPPED if row is not None and not row.closed else _CLOSED
            if message is not None:
                handle(session, registration_id, message)
            else:
                row.skipped += 1
            row.next_root = fetched.next_root
            row.messages_read += 1
            row.updated_at = utcnow()
            if isinstance(message, Goodbye):
                row.closed = True
                log.info("event=channel_goodbye registration=%s", registration_id)
            return PollResult(
                int(message is not None), int(message is None), isinstance(message, Goodbye)
            )


# _apply's answers when the position moved under it: another reader advanced it
# (stop, not closed) or it was deregistered or closed (stop, closed).
_STOPPED = PollResult(0, 0, False)
_CLOSED = PollResult(0, 0, True)
