"""What every part of a channel node shares: settings, errors, its database and locks.

The node (``shared.channels.node.ChannelNode``) is assembled from a payer
(``payer.py``), a receiver (``receiver.py``) and the agent watcher (``watcher.py``) over
one ``NodeCore``: the key, the configuration, the wallet (None on an HA front), the
engine, the per-channel locks, the transport to peers and the agent (chosen once, when
the node is built: ``transport.py``) and the plain row reads and writes they all use.
The payment hot path's SQL is in ``fastpath.py``.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import Engine, String, Text, event, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from shared.channels.rules import ChannelDefinition, canonical, sign
from shared.channels.store import Base, ChannelRow
from shared.channels.transport import Transport
from shared.db import make_engine, make_sessionmaker
from shared.migrations import Store, upgrade

COMMAND_TAG = "CHANNEL9CMD"
# One transaction's message (2187 trytes, two per ASCII byte): the agent reads every
# command transaction on its own, so a command must fit in one.
MAX_COMMAND_BYTES = 2187 // 2
_NONCE_TRYTES = 27 - len(COMMAND_TAG)
_TRYTE_ALPHABET = "9ABCDEFGHIJKLMNOPQRSTUVWXYZ"
MAX_MESSAGE_BYTES = 4096


class ChannelError(Exception):
    """A channel operation refused or failed; the message says why."""


class UnknownChannel(ChannelError):
    """No channel with this id on this node."""


class PaymentError(ChannelError):
    """The peer took the payment but its callback answered with an error."""


class PaymentRefused(ChannelError):
    """The peer refused the package (the payment did not happen)."""


class Unsynced(PaymentRefused):
    """Refused on what may be a stale local view of the agent (deposit, status)."""


class PeerUnreachable(ChannelError):
    """The peer did not answer (10 s); the package is sent again before any new one."""


class WalletLike(Protocol):
    def new_address(self, purpose: str) -> str: ...

    def send(self, value: int, to: str, *, tag: str = "", message: str = "") -> Any: ...

    def balance(self) -> int: ...


Callback = Callable[[int, Any, str], Any]


class ConfigRow(Base):
    __tablename__ = "channel_config"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


# A channel node's tables (shared/channels/store.py and ConfigRow): shared/channels/migrations.
STORE = Store("channels", Path(__file__).parent / "migrations", Base.metadata)


@dataclass
class ChannelConfig:
    agent_url: str  # the devnet (it hosts the agent's /channels routes)
    public_url: str  # where peers reach this node's router (…/channels/peer)
    default_timeout: int = 600
    min_timeout: int = 5
    max_timeout: int = 7 * 24 * 3600
    http_timeout: float = 10.0
    watch_interval: float = 1.0
    max_channels: int = 10_000
    name: str = ""  # this process, recorded with every payment received (HA)
    # SQLite only: FULL (shared.db's default) survives a power cut; NORMAL survives a
    # killed process (WAL) and saves an fsync per payment (docs/channels.md).
    sqlite_synchronous: str = "FULL"


def public_key_hex(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def command_transfer(key: Ed25519PrivateKey, body: dict[str, Any]) -> tuple[str, str]:
    """(tag, message) of a command transaction to the agent (docs/channels.md, wire format).

    A fresh nonce goes into the signed body and into the tag: two commands to one escrow
    in the same second then have different bundle hashes and different signatures.
    """
    nonce = "".join(secrets.choice(_TRYTE_ALPHABET) for _ in range(_NONCE_TRYTES))
    envelope = sign(key, {**body, "nonce": nonce})
    message = json.dumps(envelope, separators=(",", ":"), ensure_ascii=True)
    if len(message) > MAX_COMMAND_BYTES:
        raise ChannelError(
            f"the {body.get('type')} command is {len(message)} bytes, "
            f"one transaction holds {MAX_COMMAND_BYTES}"
        )
    return COMMAND_TAG + nonce, message


def check_message(message: Any) -> None:
    try:
        size = len(canonical(message))  # strict JSON: what the link sends parses anywhere
    except (TypeError, ValueError) as error:
        raise ChannelError(f"message must be JSON: {error}") from None
    if size > MAX_MESSAGE_BYTES:
        raise ChannelError(f"message is {size} bytes, at most {MAX_MESSAGE_BYTES}")


def check_amount(amount: Any) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ChannelError("amount must be a positive integer")
    return amount


def free_amount(row: ChannelRow) -> int:
    return row.deposited_by_me - row.spent_by_me + row.received


def _synchronous_normal(dbapi_connection: Any, _record: Any) -> None:
    # Runs after shared.db's pragmas (registered first) and relaxes only this one.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class NodeCore:
    """The state the payer, the receiver and the watcher share, and their row helpers."""

    def __init__(
        self,
        key: Ed25519PrivateKey,
        database: str | Engine,
        config: ChannelConfig,
        wallet: WalletLike | None,
        transport: Transport,
    ) -> None:
        self.key = key
        self.pubkey = public_key_hex(key)
        self.config = config
        self.wallet = wallet
        self.transport = transport
        self.engine = make_engine(database) if isinstance(database, str) else database
        if self.engine.dialect.name == "sqlite" and config.sqlite_synchronous != "FULL":
            if config.sqlite_synchronous != "NORMAL":
                raise ChannelError("sqlite_synchronous must be FULL or NORMAL")
            event.listen(self.engine, "connect", _synchronous_normal)
        upgrade(self.engine, STORE)
        self.sessions = make_sessionmaker(self.engine)
        # SQLite has no row locks: every write to a channel's row holds its lock (in this
        # process; PostgreSQL's FOR UPDATE serialises HA fronts as well).
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def lock(self, cid: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(cid, threading.Lock())

    def need_wallet(self, what: str) -> WalletLike:
        if self.wallet is None:
            raise ChannelError(f"{what} needs the wallet: this is a front (HA) node")
        return self.wallet

    @staticmethod
    def row(session: Session, cid: str, *, lock: bool = False) -> ChannelRow:
        query = select(ChannelRow).where(ChannelRow.channel_id == cid)
        if lock:
            query = query.with_for_update()
        row = session.scalars(query).first()
        if row is None:
            raise UnknownChannel(f"unknown channel {cid[:16]}")
        return row

    def get(self, cid: str) -> ChannelRow:
        with self.sessions() as session:
            return self.row(session, cid)

    def set(self, cid: str, **values: Any) -> None:
        with self.sessions.begin() as session:
            session.execute(update(ChannelRow).where(ChannelRow.channel_id == cid).values(**values))

    def channels(self) -> list[str]:
        with self.sessions() as session:
            return list(session.scalars(select(ChannelRow.channel_id)))

    def insert_channel(
        self, definition: ChannelDefinition, role: str, peer_url: str, payout: str | None
    ) -> None:
        with self.sessions.begin() as session:
            if session.get(ChannelRow, definition.channel_id) is not None:
                return
            count = len(session.scalars(select(ChannelRow.channel_id)).all())
            if count >= self.config.max_channels:
                raise ChannelError(f"this node keeps {self.config.max_channels} channels at most")
            session.add(
                ChannelRow(
                    channel_id=definition.channel_id,
                    definition=definition.to_json(),
                    role=role,
                    peer_url=peer_url,
                    payout_address=payout,
                    commands={},
                    settlements=[],
                )
            )
