"""One party of payment channels (seed 003's aa-channels-lib, in Python, over our devnet).

    node = ChannelNode(key, engine, ChannelConfig(agent_url=..., public_url=...), wallet)
    app.include_router(node.router(), prefix="/channels/peer")   # peers reach us here
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
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import secrets
import threading
import time
from collections import namedtuple
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import (
    Connection,
    Engine,
    String,
    Table,
    Text,
    bindparam,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.orm import Mapped, Session, mapped_column

from shared.channels.peerlink import LinkError, PeerLink, uses_proxy
from shared.channels.rules import (
    ChannelDefinition,
    PartyDef,
    RuleError,
    canonical,
    other,
    sign,
    verify,
)
from shared.channels.store import Base, ChannelRow, ReceivedPayment, SentPayment
from shared.db import make_engine, make_sessionmaker, run_db
from shared.migrations import Store, upgrade

__all__ = [
    "ChannelConfig",
    "ChannelError",
    "ChannelNode",
    "PaymentError",
    "PaymentRefused",
    "PeerUnreachable",
    "UnknownChannel",
    "command_transfer",
    "public_key_hex",
]

log = logging.getLogger("shared.channels")

COMMAND_TAG = "CHANNEL9CMD"
# One transaction's message (2187 trytes, two per ASCII byte): the agent reads every
# command transaction on its own, so a command must fit in one.
MAX_COMMAND_BYTES = 2187 // 2
_NONCE_TRYTES = 27 - len(COMMAND_TAG)
_TRYTE_ALPHABET = "9ABCDEFGHIJKLMNOPQRSTUVWXYZ"
MAX_MESSAGE_BYTES = 4096
_RESEND_AFTER = 30.0  # a command the agent has not acted on is sent again after this


class ChannelError(Exception):
    """A channel operation refused or failed; the message says why."""


class UnknownChannel(ChannelError):
    """No channel with this id on this node."""


class PaymentError(ChannelError):
    """The peer took the payment but its callback answered with an error."""


class PaymentRefused(ChannelError):
    """The peer refused the package (the payment did not happen)."""


class _Unsynced(PaymentRefused):
    """Refused on what may be a stale local view of the agent (deposit, status)."""


class PeerUnreachable(ChannelError):
    """The peer did not answer (10 s); the package is sent again before any new one."""


class WalletLike(Protocol):
    def new_address(self, purpose: str) -> str: ...

    def send(self, value: int, to: str, *, tag: str = "", message: str = "") -> Any: ...

    def balance(self) -> int: ...


Callback = Callable[[int, Any, str], Any]


class _Config(Base):
    __tablename__ = "channel_config"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


# A channel node's tables (shared/channels/store.py and _Config): shared/channels/migrations.
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


def _check_message(message: Any) -> None:
    try:
        size = len(canonical(message))  # strict JSON: what the link sends parses anywhere
    except (TypeError, ValueError) as error:
        raise ChannelError(f"message must be JSON: {error}") from None
    if size > MAX_MESSAGE_BYTES:
        raise ChannelError(f"message is {size} bytes, at most {MAX_MESSAGE_BYTES}")


def _check_amount(amount: Any) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ChannelError("amount must be a positive integer")
    return amount


_CHANNELS = cast(Table, ChannelRow.__table__)
_SENT = cast(Table, SentPayment.__table__)
_RECEIVED = cast(Table, ReceivedPayment.__table__)


class _Hot:
    """A statement of the payment hot path, built once.

    On SQLite it runs on the DBAPI cursor, compiled once to the same SQL Core would send:
    Core's execution (parameter processing, result set-up) costs about 13 us a statement
    there, the cursor 1 us, and a payment runs three or four on each side
    (docs/performance.md). Other databases (PostgreSQL, HA mode: ``FOR UPDATE`` kept) go
    through Core. ``json_keys`` are the JSON columns' parameters, serialised as Core's
    JSON type does (``json.dumps``); a SELECT's rows have its columns as attributes.
    """

    def __init__(
        self, statement: Any, *, keys: list[str] | None = None, json_keys: tuple[str, ...] = ()
    ) -> None:
        self.statement = statement
        compiled = statement.compile(dialect=_SQLITE, column_keys=keys)
        self.sql = str(compiled)
        self.order = tuple(compiled.positiontup or ())
        self.json_keys = frozenset(json_keys)
        # Values written in the statement itself (``.values(status="answered")``).
        self.constants = {k: b.value for k, b in compiled.binds.items() if not b.required}
        columns = getattr(statement, "selected_columns", None)
        self.row: Any = None if columns is None else namedtuple("Row", [c.key for c in columns])

    def _args(self, params: dict[str, Any]) -> tuple[Any, ...]:
        json_keys, constants = self.json_keys, self.constants
        values = []
        for key in self.order:
            value = constants[key] if key in constants else params[key]
            values.append(json.dumps(value) if key in json_keys else value)
        return tuple(values)

    def execute(self, conn: Connection, params: dict[str, Any]) -> None:
        if conn.dialect.name != "sqlite":
            conn.execute(self.statement, params)
            return
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(self.sql, self._args(params))
        cursor.close()

    def executemany(self, conn: Connection, params: list[dict[str, Any]]) -> None:
        if conn.dialect.name != "sqlite":
            conn.execute(self.statement, params)
            return
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.executemany(self.sql, [self._args(p) for p in params])
        cursor.close()

    def first(self, conn: Connection, params: dict[str, Any]) -> Any:
        """The first row (attributes named after the columns) or None."""
        if conn.dialect.name != "sqlite":
            return conn.execute(self.statement, params).first()
        assert self.row is not None
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        found = cursor.execute(self.sql, self._args(params)).fetchone()
        cursor.close()
        return None if found is None else self.row._make(found)

    def insert(self, conn: Connection, params: dict[str, Any]) -> int:
        """Insert one row; its new primary key."""
        if conn.dialect.name != "sqlite":
            return _new_id(conn.execute(self.statement, params))
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(self.sql, self._args(params))
        new_id = cursor.lastrowid
        cursor.close()
        assert new_id is not None
        return int(new_id)


_SQLITE = sqlite_dialect.dialect()

# The statements of the payment hot path, built once: building a Core statement and its
# cache key costs more CPU than SQLite takes to run it (bench/channels).
_c, _s, _r = _CHANNELS.c, _SENT.c, _RECEIVED.c
_SENT_ANSWERED = _Hot(
    update(_SENT)
    .where(_s.id == bindparam("sent_id"))
    .values(status="answered", response=bindparam("answer")),
    json_keys=("answer",),
)
_PAYER_ROW = _Hot(
    select(
        _c.role,
        _c.period,
        _c.status,
        _c.close_requested,
        _c.my_seq,
        _c.spent_by_me,
        _c.deposited_by_me,
        _c.received,
        _c.peer_url,
        _c.is_peer_ready,
    )
    .where(_c.channel_id == bindparam("cid"))
    .with_for_update()
)
_OLDEST_PENDING = (
    select(_s.id, _s.package, _s.message)
    .where(
        _s.channel_id == bindparam("cid"),
        _s.period == bindparam("period"),
        _s.status == "pending",
    )
    .order_by(_s.seq)
    .limit(1)
)
_SPEND = _Hot(
    update(_CHANNELS)
    .where(_c.channel_id == bindparam("cid"))
    .values(
        my_seq=bindparam("new_seq"), spent_by_me=bindparam("new_spent"), updated_at=bindparam("now")
    )
)
_INSERT_SENT = _Hot(
    insert(_SENT),
    keys=["channel_id", "period", "seq", "amount", "package", "message", "status", "created_at"],
    json_keys=("package", "message"),
)
_RECEIVER_COLUMNS = (
    _c.role,
    _c.period,
    _c.peer_seq,
    _c.status,
    _c.close_requested,
    _c.received,
    _c.deposited_by_peer,
    _c.spent_by_me,
)
# The definition (a JSON document) is read only until it is cached.
_RECEIVER_ROW = _Hot(
    select(*_RECEIVER_COLUMNS).where(_c.channel_id == bindparam("cid")).with_for_update()
)
_RECEIVER_ROW_DEF = (
    select(*_RECEIVER_COLUMNS, _c.definition)
    .where(_c.channel_id == bindparam("cid"))
    .with_for_update()
)
_KNOWN_PACKAGE = select(_r.id, _r.amount, _r.package, _r.answered, _r.response, _r.error).where(
    _r.channel_id == bindparam("cid"), _r.period == bindparam("period"), _r.seq == bindparam("seq")
)
_CREDIT = _Hot(
    update(_CHANNELS)
    .where(_c.channel_id == bindparam("cid"))
    .values(
        peer_seq=bindparam("new_seq"),
        received=bindparam("new_received"),
        evidence=bindparam("package"),
        updated_at=bindparam("now"),
    ),
    json_keys=("package",),
)
_INSERT_RECEIVED = _Hot(
    insert(_RECEIVED),
    keys=[
        "channel_id",
        "period",
        "seq",
        "amount",
        "package",
        "answered",
        "response",
        "error",
        "front",
        "created_at",
    ],
    json_keys=("package", "response"),
)


@dataclass(frozen=True)
class Outgoing:
    """A package written by the payer, to deliver (or deliver again)."""

    id: int
    channel_id: str
    package: dict[str, Any]
    message: Any


@dataclass(frozen=True)
class Incoming:
    """A package the receiver recorded, with its answer if given."""

    id: int
    channel_id: str
    amount: int
    answered: bool
    response: Any
    error: str | None


def _synchronous_normal(dbapi_connection: Any, _record: Any) -> None:
    # Runs after shared.db's pragmas (registered first) and relaxes only this one.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _new_id(result: Any) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _free(row: ChannelRow) -> int:
    return row.deposited_by_me - row.spent_by_me + row.received


class ChannelNode:
    """A party: the peer API (router), the payer API and the background watcher."""

    def __init__(
        self,
        key: Ed25519PrivateKey,
        database: str | Engine,
        config: ChannelConfig,
        wallet: WalletLike | None = None,
    ) -> None:
        self.key = key
        self.pubkey = public_key_hex(key)
        self.config = config
        self.wallet = wallet
        self.engine = make_engine(database) if isinstance(database, str) else database
        if self.engine.dialect.name == "sqlite" and config.sqlite_synchronous != "FULL":
            if config.sqlite_synchronous != "NORMAL":
                raise ChannelError("sqlite_synchronous must be FULL or NORMAL")
            event.listen(self.engine, "connect", _synchronous_normal)
        upgrade(self.engine, STORE)
        self._sessions = make_sessionmaker(self.engine)
        self._callback: Callback | None = None
        self._callback_is_async = False
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._pay_locks: dict[str, asyncio.Lock] = {}
        self._client: httpx.AsyncClient | None = None
        # Payments go through the lighter PeerLink unless a client was given (tests give
        # an ASGI one) or the environment names a proxy for the peer.
        self._link: PeerLink | None = None
        self._client_given = False
        self._proxied: dict[str, bool] = {}
        self._finished: dict[str, list[tuple[int, Any]]] = {}  # answers not written yet
        self._peers: dict[str, tuple[str, bool]] = {}  # channel -> (peer url, peer ready)
        self._clean: dict[str, bool] = {}  # True: no unanswered package in the database
        self._definitions: dict[str, ChannelDefinition] = {}

    # -- plumbing ---------------------------------------------------------------

    @property
    def is_front(self) -> bool:
        return self.wallet is None

    def _lock(self, cid: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(cid, threading.Lock())

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.config.http_timeout)
        return self._client

    def use_http_client(self, client: httpx.AsyncClient) -> None:
        """Send every request, payments too, through ``client`` (e.g. an ASGI transport)."""
        self._client = client
        self._client_given = True

    async def _post(self, url: str, payload: Any) -> tuple[int, bytes]:
        """POST JSON to a peer: (status, body); PeerUnreachable without an answer."""
        proxied = self._proxied.get(url)
        if proxied is None:
            proxied = self._proxied[url] = uses_proxy(url)
        if self._client_given or proxied:
            try:
                reply = await self._http().post(url, json=payload)
            except httpx.HTTPError as error:
                raise PeerUnreachable(f"peer did not answer: {error!r}") from None
            return reply.status_code, reply.content
        if self._link is None:
            self._link = PeerLink(self.config.http_timeout)
        try:
            return await self._link.post_json(url, payload)
        except LinkError as error:
            raise PeerUnreachable(f"peer did not answer: {error}") from None

    async def aclose(self) -> None:
        if self._link is not None:
            await self._link.aclose()
            self._link = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _need_wallet(self, what: str) -> WalletLike:
        if self.wallet is None:
            raise ChannelError(f"{what} needs the wallet: this is a front (HA) node")
        return self.wallet

    def _row(self, session: Session, cid: str, *, lock: bool = False) -> ChannelRow:
        query = select(ChannelRow).where(ChannelRow.channel_id == cid)
        if lock:
            query = query.with_for_update()
        row = session.scalars(query).first()
        if row is None:
            raise UnknownChannel(f"unknown channel {cid[:16]}")
        return row

    def on_payment(self, callback: Callback) -> None:
        """``callback(amount, message, channel_id)`` answers each payment received.

        It may be a coroutine function. Its return value (JSON) goes back to the payer
        as the response; an exception's text goes back as the error (the payment still
        counts: the package is valid and kept).
        """
        self._callback = callback
        self._callback_is_async = inspect.iscoroutinefunction(callback)

    # -- the payer's API ----------------------------------------------------------

    async def create_channel(
        self, peer: str, amount: int, *, timeout: int | None = None, salt: str | None = None
    ) -> str:
        """Open a channel with the node at ``peer`` (its router URL) and deposit ``amount``."""
        wallet = self._need_wallet("create_channel")
        timeout = self.config.default_timeout if timeout is None else timeout
        if amount != 0:
            _check_amount(amount)
        salt = salt or secrets.token_hex(8)
        address = await asyncio.to_thread(wallet.new_address, "channel-payout")
        try:
            reply = await self._http().post(
                f"{peer.rstrip('/')}/create",
                json={
                    "pubkey": self.pubkey,
                    "address": address,
                    "timeout": timeout,
                    "salt": salt,
                    "url": self.config.public_url,
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
                PartyDef(address, self.pubkey),
                PartyDef(answer["address"], answer["pubkey"]),
                timeout,
                salt,
            )
        except (KeyError, TypeError, RuleError) as error:
            raise ChannelError(f"peer answered with a bad definition: {error}") from None
        cid = definition.channel_id
        if answer.get("channel_id") != cid:
            raise ChannelError("peer computed another channel id")
        await run_db(self._insert_channel, definition, "A", peer.rstrip("/"), address)
        await self._register(cid, definition)
        log.info("event=channel_created channel=%s peer=%s timeout=%d", cid[:16], peer, timeout)
        if amount:
            await self.deposit(cid, amount)
        return cid

    def _insert_channel(
        self, definition: ChannelDefinition, role: str, peer_url: str, payout: str | None
    ) -> None:
        with self._sessions.begin() as session:
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

    async def _agent(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = f"{self.config.agent_url.rstrip('/')}/channels{path}"
        return await self._http().request(method, url, **kwargs)

    async def _register(self, cid: str, definition: ChannelDefinition) -> dict[str, Any]:
        reply = await self._agent("POST", "", json={"definition": definition.to_json()})
        if reply.status_code != 200:
            raise ChannelError(f"the agent refused the channel: {reply.text[:300]}")
        await run_db(self._set, cid, registered=True)
        summary: dict[str, Any] = reply.json()
        return summary

    def _set(self, cid: str, **values: Any) -> None:
        with self._sessions.begin() as session:
            session.execute(update(ChannelRow).where(ChannelRow.channel_id == cid).values(**values))

    async def agent_summary(self, cid: str) -> dict[str, Any] | None:
        reply = await self._agent("GET", f"/{cid}")
        if reply.status_code == 404:
            return None
        reply.raise_for_status()
        summary: dict[str, Any] = reply.json()
        return summary

    async def _payout_address(self, cid: str) -> str:
        row = await run_db(self._get, cid)
        if row.payout_address:
            return row.payout_address
        wallet = self._need_wallet("a payout address")
        address = await asyncio.to_thread(wallet.new_address, f"channel-payout:{row.period}")
        await run_db(self._set, cid, payout_address=address)
        return address

    def _get(self, cid: str) -> ChannelRow:
        with self._sessions() as session:
            return self._row(session, cid)

    async def deposit(self, cid: str, amount: int) -> str:
        """Send ``amount`` from the wallet to the channel's current escrow; the tail hash."""
        wallet = self._need_wallet("deposit")
        _check_amount(amount)
        row = await run_db(self._get, cid)
        if row.status.startswith("closing") or row.close_requested:
            raise ChannelError("the channel is closing: a deposit now would only be refunded")
        summary = await self.agent_summary(cid)
        if summary is None:
            summary = await self._register(cid, ChannelDefinition.from_json(row.definition))
        if summary["status"] != "open":
            raise ChannelError("the agent is closing this channel: deposit after it settled")
        period = summary["period"]
        payout = await self._payout_address(cid)
        body = {
            "type": "deposit",
            "channel": cid,
            "period": period,
            "party": row.role,
            "payout": payout,
        }
        tag, message = command_transfer(self.key, body)
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
        with self._lock(cid), self._sessions.begin() as session:
            row = self._row(session, cid, lock=True)
            row.deposits_pending = max(0, row.deposits_pending + amount)

    async def pay(self, cid: str, amount: int, message: Any = None) -> Any:
        """Pay ``amount`` off-ledger with ``message``; the peer's answer (or PaymentError)."""
        _check_amount(amount)
        _check_message(message)
        lock = self._pay_locks.setdefault(cid, asyncio.Lock())
        async with lock:
            while True:
                finished = self._finished.pop(cid, [])
                try:
                    sent, fresh = await run_db(self._next_package, cid, amount, message, finished)
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
            _SENT_ANSWERED.executemany(
                conn, [{"sent_id": sent_id, "answer": answer} for sent_id, answer in finished]
            )

    def _next_package(
        self, cid: str, amount: int, message: Any, finished: list[tuple[int, Any]]
    ) -> tuple[Outgoing, bool]:
        """(the oldest unanswered package, False) or (a new package, True): one transaction.

        ``finished`` are answers received since the last call: written here, with the
        next package, so a payment costs one commit on the payer's side. After a crash an
        answered package may look unanswered: it is sent again and the peer, which keeps
        its answer, repeats it without crediting it twice.
        """
        with self._lock(cid), self.engine.begin() as conn:
            self._flush_finished(conn, finished)
            row = _PAYER_ROW.first(conn, {"cid": cid})
            if row is None:
                raise UnknownChannel(f"unknown channel {cid[:16]}")
            if not self._clean.get(cid):
                pending = conn.execute(_OLDEST_PENDING, {"cid": cid, "period": row.period}).first()
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
            package = sign(self.key, body)
            now = time.time()
            _SPEND.execute(conn, {"cid": cid, "new_seq": seq, "new_spent": spent, "now": now})
            sent_id = _INSERT_SENT.insert(
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
        with self.engine.begin() as conn:
            for cid in list(self._finished):
                self._flush_finished(conn, self._finished.pop(cid, []))

    async def _deliver(self, sent: Outgoing) -> Any:
        cid = sent.channel_id
        peer_url, ready = self._peers.get(cid, ("", False))
        if not ready:
            row = await run_db(self._get, cid)
            peer_url = row.peer_url
            if not row.is_peer_ready:
                await self._ask_ready(row)
            self._peers[cid] = (peer_url, True)
        status, content = await self._post(
            f"{peer_url}/pay", {"package": sent.package, "message": sent.message}
        )
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
        with self._sessions.begin() as session:
            session.execute(
                update(SentPayment)
                .where(SentPayment.id == sent_id)
                .values(status=status, response=response, error=error)
            )

    async def _ask_ready(self, row: ChannelRow) -> None:
        try:
            reply = await self._http().post(
                f"{row.peer_url}/is_ready", json={"channel_id": row.channel_id}
            )
        except httpx.HTTPError as error:
            raise PeerUnreachable(f"peer did not answer: {error!r}") from None
        if reply.status_code != 200 or reply.json().get("response") is not True:
            raise ChannelError(f"peer is not ready for channel {row.channel_id[:16]}")
        await run_db(self._set, row.channel_id, is_peer_ready=True)

    async def close(self, cid: str) -> None:
        """Close the channel: no more payments; the watcher sends ``close`` to the agent.

        The ledger then pays each side ``deposited - paid + received``: at once when the
        peer confirms, after the timeout otherwise.
        """
        await run_db(self._request_close, cid)
        if self.wallet is not None:
            summary = await self.agent_summary(cid)
            if summary is not None:
                await self._act(cid, summary)

    def _request_close(self, cid: str) -> None:
        with self._lock(cid), self._sessions.begin() as session:
            row = self._row(session, cid, lock=True)
            if row.status == "closed" and not row.deposited_by_me and not row.deposited_by_peer:
                raise ChannelError("the channel is closed: nothing to close")
            row.close_requested = True

    def balances_and_status(self, cid: str) -> dict[str, Any]:
        """``{status, period, amount_deposited_by_me, ..., free_amount}`` (from the database)."""
        self.flush_answers()
        with self._sessions() as session:
            row = self._row(session, cid)
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
            "free_amount": _free(row),
            "my_payments_count": len(sent),
            "my_payments_unanswered": sum(1 for s in sent if s == "pending"),
            "peer_payments_count": len(received),
            "settlements": row.settlements,
        }

    def channels(self) -> list[str]:
        with self._sessions() as session:
            return list(session.scalars(select(ChannelRow.channel_id)))

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

    # -- the receiver (front) ---------------------------------------------------

    def accept_create(self, request: dict[str, Any]) -> dict[str, Any]:
        """A peer proposes a channel: check it, store it (I am B), answer my key/address."""
        timeout = request.get("timeout")
        if isinstance(timeout, bool) or not isinstance(timeout, int):
            raise ChannelError("timeout must be an integer")
        if not self.config.min_timeout <= timeout <= self.config.max_timeout:
            raise ChannelError(
                f"timeout must be between {self.config.min_timeout} and "
                f"{self.config.max_timeout} seconds"
            )
        url = request.get("url")
        if (
            not isinstance(url, str)
            or not url.startswith(("http://", "https://"))
            or len(url) > 500
        ):
            raise ChannelError("url must be the http(s) URL of the peer's channel router")
        address = self._default_payout()
        try:
            definition = ChannelDefinition(
                PartyDef(request.get("address"), request.get("pubkey")),  # type: ignore[arg-type]
                PartyDef(address, self.pubkey),
                timeout,
                request.get("salt"),  # type: ignore[arg-type]
            )
        except RuleError as error:
            raise ChannelError(str(error)) from None
        self._insert_channel(definition, "B", url.rstrip("/"), None)
        log.info("event=channel_accepted channel=%s peer=%s", definition.channel_id[:16], url)
        return {"pubkey": self.pubkey, "address": address, "channel_id": definition.channel_id}

    def _default_payout(self) -> str:
        """The payout address a new channel names (a front reads the background's)."""
        with self._sessions() as session:
            row = session.get(_Config, "payout_address")
        if row is None:
            raise ChannelError("no payout address yet: the background node has not started")
        return row.value

    def ensure_default_payout(self) -> None:
        """Background: write a payout address for channels the fronts accept."""
        wallet = self._need_wallet("a payout address")
        with self._sessions() as session:
            if session.get(_Config, "payout_address") is not None:
                return
        address = wallet.new_address("channel-payout")
        with self._sessions.begin() as session:
            if session.get(_Config, "payout_address") is None:
                session.add(_Config(key="payout_address", value=address))

    def is_ready(self, cid: Any) -> bool:
        if not isinstance(cid, str):
            return False
        with self._sessions() as session:
            row = session.get(ChannelRow, cid)
        return row is not None and row.status not in ("closing_by_me", "closing_by_peer")

    def _definition(self, cid: str, raw: dict[str, Any]) -> ChannelDefinition:
        definition = self._definitions.get(cid)
        if definition is None:
            definition = self._definitions[cid] = ChannelDefinition.from_json(raw)
        return definition

    def _accept_package(self, envelope: Any, message: Any) -> Incoming:
        """Verify and record a package under the channel's row lock.

        A plain (not async) callback answers inside the same transaction: the payment
        and its answer are one commit. Raises PaymentRefused.
        """
        body = envelope.get("body") if isinstance(envelope, dict) else None
        if not isinstance(body, dict) or not isinstance(body.get("channel"), str):
            raise PaymentRefused("not a signed package")
        cid = body["channel"]
        definition = self._definitions.get(cid)
        with self._lock(cid), self.engine.begin() as conn:
            if definition is not None:
                row = _RECEIVER_ROW.first(conn, {"cid": cid})
            else:  # once per channel: the JSON definition through Core
                row = conn.execute(_RECEIVER_ROW_DEF, {"cid": cid}).first()
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
                    _KNOWN_PACKAGE, {"cid": cid, "period": row.period, "seq": seq}
                ).first()
                if known is not None and known.package == envelope:
                    # The payer's retry: the same answer, no new credit.
                    return Incoming(
                        known.id, cid, known.amount, known.answered, known.response, known.error
                    )
                raise PaymentRefused(f"stale or replayed package (seq {seq} <= {row.peer_seq})")
            if row.status == "opening" and not row.close_requested:
                raise _Unsynced("the channel is opening")
            if row.status != "open" or row.close_requested:
                raise PaymentRefused(f"the channel is {row.status}")
            if amount <= 0 or spent - row.received < amount:
                raise PaymentRefused(
                    f"amount_spent {spent} must be at least {row.received} + {amount}"
                )
            if spent > row.deposited_by_peer + row.spent_by_me:
                raise _Unsynced(
                    f"amount_spent {spent} is above what the peer has "
                    f"({row.deposited_by_peer} deposited + {row.spent_by_me} received)"
                )
            now = time.time()
            _CREDIT.execute(
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
            payment_id = _INSERT_RECEIVED.insert(
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
                    "front": self.config.name,
                    "created_at": now,
                },
            )
            return Incoming(payment_id, cid, amount, answered, response, error)

    def _answer(self, payment_id: int, response: Any, error: str | None) -> None:
        with self._sessions.begin() as session:
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
            _check_message(result)
            return result, None
        except Exception as exc:  # the callback's error goes back to the payer
            return None, str(exc)[:500] or type(exc).__name__

    async def receive(self, envelope: Any, message: Any) -> dict[str, Any]:
        """A package from a payer: ``{"accepted": true, "response"|"error": ...}``.

        Raises PaymentRefused when the package is refused (nothing is credited).
        """
        try:
            payment = await run_db(self._accept_package, envelope, message)
        except _Unsynced as refusal:
            # The payer may have seen the agent credit a deposit before we did: ask the
            # agent (only the real peer gets here: the signature was checked) and retry once.
            cid = envelope["body"]["channel"]
            try:
                summary = await self.agent_summary(cid)
            except httpx.HTTPError:
                raise refusal from None
            if summary is None:
                raise refusal from None
            await run_db(self._sync, cid, summary)
            payment = await run_db(self._accept_package, envelope, message)
        if payment.answered:
            return {"accepted": True, "response": payment.response, "error": payment.error}
        # An async callback: the payment is recorded; answer, then record the answer.
        response: Any = None
        error: str | None = None
        assert self._callback is not None
        try:
            response = await self._callback(payment.amount, message, payment.channel_id)
            _check_message(response)
        except Exception as exc:  # the callback's error goes back to the payer
            response, error = None, str(exc)[:500] or type(exc).__name__
        await run_db(self._answer, payment.id, response, error)
        return {"accepted": True, "response": response, "error": error}

    # -- the watcher (background) -------------------------------------------------

    async def watch(self) -> None:
        """Follow the agent forever (run under shared.tasks.Supervisor)."""
        self._need_wallet("the watcher")
        await asyncio.to_thread(self.ensure_default_payout)
        while True:
            await self.watch_once()
            await asyncio.sleep(self.config.watch_interval)

    async def watch_once(self) -> None:
        for cid in await run_db(self.channels):
            try:
                await self._watch_channel(cid)
            except (httpx.HTTPError, ChannelError) as error:
                log.warning("event=channel_watch_failed channel=%s error=%r", cid[:16], error)

    async def _watch_channel(self, cid: str) -> None:
        row = await run_db(self._get, cid)
        summary = await self.agent_summary(cid)
        if summary is None:
            summary = await self._register(cid, ChannelDefinition.from_json(row.definition))
        elif not row.registered:
            await run_db(self._set, cid, registered=True)
        await run_db(self._sync, cid, summary)
        await self._act(cid, summary)

    def _sync(self, cid: str, summary: dict[str, Any]) -> None:
        """Take the agent's view: deposits, status, a new period after a settlement."""
        with self._lock(cid), self._sessions.begin() as session:
            row = self._row(session, cid, lock=True)
            me, peer = row.role, other(row.role)  # type: ignore[arg-type]
            if summary["period"] > row.period:
                log.info(
                    "event=channel_settled channel=%s period=%d now=%d",
                    cid[:16],
                    row.period,
                    summary["period"],
                )
                session.execute(
                    update(SentPayment)
                    .where(SentPayment.channel_id == cid, SentPayment.status == "pending")
                    .values(status="error", error="the period was settled")
                )
                row.period = summary["period"]
                row.deposits_pending = 0
                row.spent_by_me = row.received = row.my_seq = row.peer_seq = 0
                row.evidence = None
                row.payout_address = None
                row.commands = {}
                row.close_requested = False
            # The agent keeps every payout of the channel: issued ones, then pending ones.
            pending = [{**p, "submitted": False} for p in summary["pending"]]
            row.settlements = [*summary["payouts"], *pending][-50:]
            credited = summary["deposits"][me] - row.deposited_by_me
            if credited > 0:
                row.deposits_pending = max(0, row.deposits_pending - credited)
            row.deposited_by_me = summary["deposits"][me]
            row.deposited_by_peer = summary["deposits"][peer]
            if summary["status"] == "closing":
                row.status = "closing_by_me" if summary["initiator"] == me else "closing_by_peer"
            elif row.deposited_by_me or row.deposited_by_peer:
                row.status = "open"
            else:
                row.status = "closed" if row.settlements else "opening"
            row.agent_status = summary["status"]
            row.agent_milestone = summary["milestone"]

    async def _act(self, cid: str, summary: dict[str, Any]) -> None:
        row = await run_db(self._get, cid)
        me, peer = row.role, other(row.role)  # type: ignore[arg-type]
        if summary["period"] != row.period:
            return
        now = time.time()

        def due(kind: str) -> bool:
            sent = row.commands.get(kind)
            return sent is None or now - sent > _RESEND_AFTER

        if summary["status"] == "open" and row.close_requested and due("close"):
            extra: dict[str, Any] = {"spent": row.spent_by_me}
            if row.evidence is not None:
                extra["peer_package"] = row.evidence
            await self._command(cid, summary, "close", extra)
        elif summary["status"] == "closing" and summary["initiator"] == peer:
            claim = summary["claims"].get(peer, 0)
            if claim >= row.received:
                if due("confirm"):
                    await self._command(cid, summary, "confirm", {})
            elif due("fraud_proof"):
                log.warning(
                    "event=channel_fraud_detected channel=%s claimed=%d evidence=%d",
                    cid[:16],
                    claim,
                    row.received,
                )
                await self._command(cid, summary, "fraud_proof", {"peer_package": row.evidence})
        elif summary["status"] == "closing" and summary["initiator"] == me:
            ready_at = summary.get("confirmable_at")
            ripe = ready_at is not None and summary["milestone_timestamp"] >= ready_at
            if ripe and due("confirm"):
                await self._command(cid, summary, "confirm", {})

    async def _command(
        self, cid: str, summary: dict[str, Any], kind: str, extra: dict[str, Any]
    ) -> None:
        wallet = self._need_wallet(kind)
        row = await run_db(self._get, cid)
        body = {
            "type": kind,
            "channel": cid,
            "period": summary["period"],
            "party": row.role,
            "payout": await self._payout_address(cid),
            **extra,
        }
        tag, message = command_transfer(self.key, body)
        await asyncio.to_thread(wallet.send, 0, summary["escrow"], tag=tag, message=message)
        await run_db(self._note_command, cid, kind)
        log.info(
            "event=channel_command channel=%s kind=%s period=%d", cid[:16], kind, body["period"]
        )

    def _note_command(self, cid: str, kind: str) -> None:
        with self._lock(cid), self._sessions.begin() as session:
            row = self._row(session, cid, lock=True)
            row.commands = {**row.commands, kind: time.time()}
