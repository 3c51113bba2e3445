"""What reached the channel agent's escrows (services/devnet/channel_agent.py), read from
the devnet's tangle store: deposits (value bundles the ledger applied) and commands (single
zero-value transactions), only from milestone-confirmed transactions, in a deterministic
order; and the JSON envelope a command's or a deposit's message carries."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from services.devnet import store as tangle_store
from services.devnet.store import TangleStore
from shared.iota.text import TrytesDecodeError, trytes_to_text
from shared.iota.transaction import parse_many

__all__ = [
    "EscrowItem",
    "bundle_messages",
    "confirmed_items",
    "decode_envelope",
    "milestone_stamps",
    "value_bundles",
]

# the agent's logger: these lines belong to its story (event=channel_deposit_not_applied)
log = logging.getLogger("devnet.channels")

# A command's JSON fits in a few transactions; more is not a command.
_MAX_MESSAGE_TRYTES = 2187


@dataclass(frozen=True)
class EscrowItem:
    """A deposit (a value bundle the ledger applied to an escrow: its value counted once) or
    one command transaction (read on its own: its message is the whole command)."""

    milestone: int
    escrow: str
    bundle: str
    value: int  # > 0: a deposit, what the ledger moved to the escrow in this bundle
    # A command: its own message. A deposit: every message of the bundle's transactions to
    # the escrow (any attachment), each one read on its own, in a deterministic order.
    messages: tuple[str, ...]
    stamp: int  # the bundle's timestamp: orders the items of one milestone
    attached: int  # attachment timestamp (ms), then
    tx: str  # the transaction hash, last

    @property
    def order(self) -> tuple[int, int, int, str, str]:
        return (self.milestone, self.stamp, self.attached, self.bundle, self.tx)


def decode_envelope(message: str) -> Any:
    """The JSON in a command's message trytes, or None when it is not JSON."""
    if len(message) > _MAX_MESSAGE_TRYTES:
        return None
    try:
        text = trytes_to_text(message)
        return json.loads(text) if text else None
    except (TrytesDecodeError, ValueError, RecursionError):
        return None


def confirmed_items(
    store: TangleStore, escrows: dict[str, tuple[str, int]], after: int, upto: int
) -> list[EscrowItem]:
    """Deposits and commands to ``escrows`` confirmed by milestones (after, upto], in order.

    A **deposit** is a value bundle the ledger applied, identified by its bundle hash and
    what it moved to the escrow (never by transaction hash: a reattachment has new
    hashes). Its value comes from the ledger's own record (``value_bundles``), so it
    is counted as the ledger counted it: once. Each of the bundle's transactions to the
    escrow is a candidate for the signed deposit message, read on its own.

    A **command** is one zero-value transaction, outside any value bundle, read on its
    own: anybody can attach a transaction with any bundle hash (the hash does not cover
    the message), so transactions are never joined; the signature inside the message
    authenticates it. Identical copies (a reattachment) are read once per batch.

    Order: confirming milestone, the bundle's timestamp, the attachment timestamp,
    the bundle hash, the transaction hash (deterministic for one milestone).
    """
    t = tangle_store.transactions
    rows: list[Any] = []
    addresses = list(escrows)
    with store.engine.connect() as conn:
        for start in range(0, len(addresses), 500):
            chunk = addresses[start : start + 500]
            rows += conn.execute(
                select(t.c.trytes, t.c.milestone).where(
                    t.c.address.in_(chunk), t.c.milestone > after, t.c.milestone <= upto
                )
            ).all()
        if not rows:
            return []
        parsed = parse_many([r[0] for r in rows]).transactions
        moves = value_bundles(conn, sorted({tx.bundle for tx in parsed}))
        deposit_keys = sorted(
            {(tx.bundle, tx.address) for tx in parsed if tx.value > 0 and tx.bundle in moves}
        )
        messages = bundle_messages(conn, deposit_keys)
    items: list[EscrowItem] = []
    seen_commands: set[tuple[str, str]] = set()
    seen_deposits: set[tuple[str, str]] = set()
    for tx, row in sorted(
        zip(parsed, rows, strict=True),
        key=lambda p: (int(p[1][1]), p[0].timestamp, p[0].attachment_timestamp, p[0].hash),
    ):
        milestone = int(row[1])
        if tx.bundle in moves:
            applied, bundle_moves = moves[tx.bundle]
            key = (tx.bundle, tx.address)
            if tx.value <= 0 or key in seen_deposits:
                continue  # the escrow spending (a payout), or a message continuation
            if applied is None:
                # Confirmed, but the ledger has not applied the bundle: nothing arrived.
                log.warning(
                    "event=channel_deposit_not_applied bundle=%s escrow=%s",
                    tx.bundle[:16],
                    tx.address[:16],
                )
                continue
            seen_deposits.add(key)
            value = sum(v for a, v in bundle_moves if a == tx.address)
            if value <= 0:
                continue
            items.append(
                EscrowItem(
                    milestone=milestone,
                    escrow=tx.address,
                    bundle=tx.bundle,
                    value=value,
                    messages=tuple(messages.get(key, [tx.signature_message_fragment])),
                    stamp=tx.timestamp,
                    attached=tx.attachment_timestamp,
                    tx=tx.hash,
                )
            )
        elif tx.value == 0:
            fragment = tx.signature_message_fragment
            identity = (tx.bundle, fragment)
            if identity in seen_commands:
                continue
            seen_commands.add(identity)
            items.append(
                EscrowItem(
                    milestone=milestone,
                    escrow=tx.address,
                    bundle=tx.bundle,
                    value=0,
                    messages=(fragment,),
                    stamp=tx.timestamp,
                    attached=tx.attachment_timestamp,
                    tx=tx.hash,
                )
            )
    items.sort(key=lambda i: i.order)
    return items


def value_bundles(
    conn: Any, bundles: list[str]
) -> dict[str, tuple[int | None, list[tuple[str, int]]]]:
    """bundle -> (milestone the ledger applied it in or None, its moves), value bundles only."""
    vb = tangle_store.value_bundles
    found: dict[str, tuple[int | None, list[tuple[str, int]]]] = {}
    for start in range(0, len(bundles), 500):
        for bundle, raw, milestone in conn.execute(
            select(vb.c.bundle, vb.c.moves, vb.c.milestone).where(
                vb.c.bundle.in_(bundles[start : start + 500])
            )
        ).all():
            found[bundle] = (
                None if milestone is None else int(milestone),
                [(str(a), int(v)) for a, v in json.loads(raw)],
            )
    return found


def bundle_messages(conn: Any, keys: list[tuple[str, str]]) -> dict[tuple[str, str], list[str]]:
    """(bundle, escrow) -> the message of each of its transactions to the escrow, any
    attachment, in the order they reached the devnet (then current index, hash): a
    copy of a transaction can only be made after the original was stored."""
    if not keys:
        return {}
    t = tangle_store.transactions
    wanted = set(keys)
    found: dict[tuple[str, str], list[tuple[int, int, str, str]]] = {}
    bundles = sorted({b for b, _ in keys})
    for start in range(0, len(bundles), 500):
        rows = conn.execute(
            select(t.c.trytes, t.c.arrival).where(t.c.bundle.in_(bundles[start : start + 500]))
        ).all()
        parsed = parse_many([r[0] for r in rows]).transactions
        for tx, row in zip(parsed, rows, strict=True):
            if (tx.bundle, tx.address) in wanted:
                found.setdefault((tx.bundle, tx.address), []).append(
                    (int(row[1]), tx.current_index, tx.hash, tx.signature_message_fragment)
                )
    return {key: [entry[3] for entry in sorted(txs)] for key, txs in found.items()}


def milestone_stamps(store: TangleStore, indexes: Iterable[int]) -> dict[int, int]:
    """Milestone index -> its timestamp (the agent's clock), for ``indexes``."""
    wanted = sorted(set(indexes))
    if not wanted:
        return {}
    m = tangle_store.milestones
    with store.engine.connect() as conn:
        rows = conn.execute(select(m.c.idx, m.c.timestamp).where(m.c.idx.in_(wanted))).all()
    return {int(i): int(ts) for i, ts in rows}
