"""A participant's database: ledgers, their transactions, consensus rounds and tokens.

A round is the unit of consensus and of recovery. Its ``status`` moves

    prepared --(all signatures: the certificate)--> committed --(post-commit)--> finished
        \\--(a refusal, a timeout, or an abort learned from a peer)--> aborted

and is written to the database before the participant answers, so a SIGKILL at any point
leaves a record the recovery (services/ledger/consensus.py) resolves with the peers. A
ledger with a ``prepared`` round is locked: no other round is prepared for it. The
actor's own commit is its decision: it is durable before any peer is told to commit.
Transactions are written only by :meth:`Store.apply`, and only with a certificate that
carries every participant's signature over the new root, so no participant can hold a
transaction the others did not sign for.

The tables are services/ledger/tables.py, what participants sign
services/ledger/statements.py, what the read API shows services/ledger/views.py.

All methods are blocking (call them through ``shared.db.run_db``); one lock serialises the
ones that change state, so the in-memory Merkle trees always match the database.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from services.ledger.merkle import EMPTY_ROOT, MerkleTree, leaf_hash
from services.ledger.messages import (
    IDEMPOTENCY_KEY,
    BadRequest,
    idempotency_digest,
    validate_txn,
)
from services.ledger.statements import (
    Identity,
    commit_statement,
    entry_bytes,
    state_statement,
    txn_signed_part,
)
from services.ledger.tables import (
    SCHEMA,
    Base,
    IdempotencyRow,
    LedgerRow,
    RoundRow,
    TokenRow,
    TransactionRow,
)
from services.ledger.views import certificate, ledger_item, transaction_items
from shared.auth import token_digest
from shared.migrations import upgrade

# The tables (services/ledger/tables.py) and the statements (services/ledger/statements.py)
# are named here too, where the app, the consensus and the migrations have found them.
__all__ = [
    "SCHEMA",
    "Base",
    "Identity",
    "Refused",
    "RoundRow",
    "Store",
    "commit_statement",
    "entry_bytes",
    "state_statement",
    "txn_signed_part",
]

OPEN = ("prepared",)
HASHING = "RFC 6962: leaf = SHA-256(0x00 || entry), node = SHA-256(0x01 || left || right)"


class Refused(Exception):
    """This participant will not take part (the text says why; it goes to the actor)."""


class Store:
    def __init__(self, engine: Engine, identity: Identity) -> None:
        self.engine = engine
        self.sessions: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False)
        self.me = identity
        self.lock = threading.RLock()
        self._trees: dict[str, MerkleTree] = {}
        self._tokens: dict[str, tuple[str, float]] = {}
        upgrade(engine, SCHEMA)

    # -- trees ---------------------------------------------------------------------------------
    def _tree(self, session: Session, ledger: LedgerRow | None, name: str) -> MerkleTree:
        """The ledger's tree (cached only for ledgers that exist: names come from clients)."""
        if ledger is None:
            return MerkleTree()
        tree = self._trees.get(name)
        if tree is None or tree.size != ledger.size:
            tree = MerkleTree()
            rows = session.scalars(
                select(TransactionRow.leaf_hash)
                .where(TransactionRow.ledger_id == ledger.id)
                .order_by(TransactionRow.seq_no)
            )
            tree.extend(bytes.fromhex(h) for h in rows)
            self._trees[name] = tree
        return tree

    # -- consensus: what every participant does ------------------------------------------------
    def prepare(self, proposal: dict[str, Any]) -> str:
        """Check a proposal, record it as prepared (locking its ledger) and sign its state."""
        with self.lock, self.sessions() as session:
            rid = proposal["round"]
            name = proposal["ledger"]
            existing = session.get(RoundRow, rid)
            statement = state_statement(name, rid, proposal["new_size"], proposal["new_root"])
            if existing is not None:
                if existing.status == "prepared" and existing.new_root == proposal["new_root"]:
                    return self.me.sign(statement)
                raise Refused(f"round {rid} is already {existing.status}")
            blocking = session.scalar(
                select(RoundRow).where(RoundRow.ledger_name == name, RoundRow.status.in_(OPEN))
            )
            if blocking is not None:
                raise Refused(
                    f"ledger [{name}] is locked by round {blocking.id} of {blocking.actor}"
                )
            ledger = session.scalar(select(LedgerRow).where(LedgerRow.name == name))
            if proposal["kind"] == "create":
                if ledger is not None:
                    raise Refused(f"ledger [{name}] already exists")
                base_size, base_root = 0, EMPTY_ROOT.hex()
            else:
                if ledger is None:
                    raise Refused(f"ledger [{name}] does not exist")
                base_size, base_root = ledger.size, ledger.root_hash
            if (proposal["base_size"], proposal["base_root"]) != (base_size, base_root):
                raise Refused(
                    f"Stage-1: Non-consistent Root Hash: ledger [{name}] is at size {base_size} "
                    f"root {base_root}, the proposal builds on size {proposal['base_size']} "
                    f"root {proposal['base_root']}"
                )
            leaves = self._check_entries(proposal, base_size)
            self._check_keys(session, name, proposal["entries"])
            tree = self._tree(session, ledger, name)
            root = tree.root_with(leaves).hex()
            size = base_size + len(leaves)
            if (size, root) != (proposal["new_size"], proposal["new_root"]):
                raise Refused(
                    f"Stage-1: Non-consistent Root Hash: the transactions give size {size} "
                    f"root {root}, the proposal says size {proposal['new_size']} "
                    f"root {proposal['new_root']}"
                )
            now = time.time()
            session.add(
                RoundRow(
                    id=rid,
                    ledger_name=name,
                    kind=proposal["kind"],
                    actor=proposal["actor"],
                    status="prepared",
                    base_size=base_size,
                    base_root=base_root,
                    new_size=size,
                    new_root=root,
                    proposal_json=json.dumps(proposal),
                    certificate_json=None,
                    deadline=float(proposal["deadline"]),
                    created_at=now,
                    updated_at=now,
                )
            )
            session.commit()
            return self.me.sign(statement)

    def _check_entries(self, proposal: dict[str, Any], base_size: int) -> list[bytes]:
        entries = proposal["entries"]
        actor = proposal["actor"]
        if not entries:
            raise Refused("the proposal has no transactions")
        leaves = []
        for offset, entry in enumerate(entries):
            if not isinstance(entry, dict) or set(entry) != {"txn", "txnMetadata"}:
                raise Refused(f"entry {offset}: expected {{txn, txnMetadata}}")
            meta = entry["txnMetadata"]
            if not isinstance(meta, dict) or meta.get("seqNo") != base_size + offset + 1:
                raise Refused(f"entry {offset}: txnMetadata.seqNo must be {base_size + offset + 1}")
            if not isinstance(meta.get("txnTime"), str):
                raise Refused(f"entry {offset}: txnMetadata.txnTime must be a string")
            txn = entry["txn"]
            try:
                validate_txn(txn)
            except BadRequest as error:
                raise Refused(f"entry {offset}: {error}") from None
            if proposal["kind"] == "commit" and txn["ledger"].get("name") != proposal["ledger"]:
                raise Refused(f"entry {offset}: ledger.name is not [{proposal['ledger']}]")
            sig = txn.get("msg~sig")
            if not isinstance(sig, dict) or sig.get("signer") != actor:
                raise Refused(f"entry {offset}: msg~sig must be signed by the actor {actor}")
            if not self.me.verify(actor, txn_signed_part(txn), sig.get("signature")):
                raise Refused(f"entry {offset}: msg~sig does not verify with {actor}'s key")
            leaves.append(leaf_hash(entry_bytes(entry)))
        return leaves

    @staticmethod
    def _check_keys(session: Session, name: str, entries: list[dict[str, Any]]) -> None:
        """Refuse a proposal that would commit an idempotency key twice in a ledger."""
        seen: set[str] = set()
        for offset, entry in enumerate(entries):
            key = entry["txn"].get(IDEMPOTENCY_KEY)
            if key is None:
                continue
            if key in seen:
                raise Refused(f"entry {offset}: idempotency key [{key}] appears twice")
            seen.add(key)
            row = session.get(IdempotencyRow, (name, key))
            if row is not None:
                raise Refused(
                    f"entry {offset}: idempotency key [{key}] is already committed in "
                    f"ledger [{name}] as seq_no {row.seq_no}"
                )

    def find_key(self, name: str, key: str) -> tuple[str, int, int] | None:
        """(digest, seq_no, ledger id) of the transaction committed under ``key``."""
        with self.sessions() as session:
            row = session.get(IdempotencyRow, (name, key))
            if row is None:
                return None
            ledger_id = session.scalar(select(LedgerRow.id).where(LedgerRow.name == name))
            return None if ledger_id is None else (row.digest, row.seq_no, int(ledger_id))

    def verify_certificate(self, row: RoundRow, signatures: Any) -> None:
        statement = state_statement(row.ledger_name, row.id, row.new_size, row.new_root)
        if not isinstance(signatures, dict):
            raise Refused("the certificate must map participants to signatures")
        missing = [p for p in self.me.participants if p not in signatures]
        if missing:
            raise Refused(f"the certificate lacks the signatures of {', '.join(missing)}")
        bad = [p for p in self.me.participants if not self.me.verify(p, statement, signatures[p])]
        if bad:
            raise Refused(f"the signatures of {', '.join(bad)} do not verify")

    def apply(self, rid: str, signatures: Any) -> str:
        """Write the round's transactions (with the certificate); returns our commit receipt."""
        with self.lock, self.sessions() as session:
            row = session.get(RoundRow, rid)
            if row is None:
                raise Refused(f"round {rid} is unknown here")
            if row.status in ("committed", "finished"):
                return self.me.sign(commit_statement(rid, row.new_root))
            if row.status == "aborted":
                raise Refused(f"round {rid} was aborted here")
            self.verify_certificate(row, signatures)
            proposal = json.loads(row.proposal_json)
            now = time.time()
            name = row.ledger_name
            ledger = session.scalar(select(LedgerRow).where(LedgerRow.name == name))
            if row.kind == "create":
                if ledger is not None:  # pragma: no cover - prepare refused this
                    raise Refused(f"ledger [{name}] already exists")
                ledger = LedgerRow(
                    name=name,
                    metadata_json=json.dumps(proposal["metadata"]),
                    size=0,
                    root_hash=EMPTY_ROOT.hex(),
                    last_round=rid,
                    created_at=now,
                )
                session.add(ledger)
                session.flush()
            elif ledger is None or ledger.size != row.base_size:  # pragma: no cover - locked
                raise Refused(f"ledger [{name}] moved while round {rid} was prepared")
            tree = self._tree(session, ledger if row.kind == "commit" else None, name)
            leaves = []
            for entry in proposal["entries"]:
                data = entry_bytes(entry)
                leaf = leaf_hash(data)
                leaves.append(leaf)
                session.add(
                    TransactionRow(
                        ledger_id=ledger.id,
                        seq_no=entry["txnMetadata"]["seqNo"],
                        entry_json=data.decode("ascii"),
                        leaf_hash=leaf.hex(),
                        round_id=rid,
                        created_at=now,
                    )
                )
                key = entry["txn"].get(IDEMPOTENCY_KEY)
                if isinstance(key, str) and session.get(IdempotencyRow, (name, key)) is None:
                    session.add(
                        IdempotencyRow(
                            ledger_name=name,
                            key=key,
                            digest=idempotency_digest(entry["txn"]),
                            seq_no=entry["txnMetadata"]["seqNo"],
                            round_id=rid,
                        )
                    )
            ledger.size = row.new_size
            ledger.root_hash = row.new_root
            ledger.last_round = rid
            row.status = "committed"
            row.certificate_json = json.dumps(signatures)
            row.updated_at = now
            session.commit()
            tree.extend(leaves)
            self._trees[name] = tree
            if tree.root().hex() != row.new_root:  # pragma: no cover - checked at prepare
                self._trees.pop(name, None)
            return self.me.sign(commit_statement(rid, row.new_root))

    def finish(self, rid: str, receipts: Any) -> None:
        """Post-commit: every participant's receipt seen; the round's proposal is dropped."""
        with self.lock, self.sessions() as session:
            row = session.get(RoundRow, rid)
            if row is None or row.status not in ("committed", "finished"):
                raise Refused(f"round {rid} is not committed here")
            if receipts is not None:
                statement = commit_statement(rid, row.new_root)
                if not isinstance(receipts, dict):
                    raise Refused("receipts must map participants to signatures")
                bad = [
                    p
                    for p in self.me.participants
                    if not self.me.verify(p, statement, receipts.get(p))
                ]
                if bad:
                    raise Refused(f"the receipts of {', '.join(bad)} do not verify")
            row.status = "finished"
            row.proposal_json = ""
            row.updated_at = time.time()
            session.commit()

    def abort(self, rid: str, ledger: str = "", actor: str = "") -> str:
        """Roll a round back (or refuse it in advance); returns the status it ends with."""
        with self.lock, self.sessions() as session:
            row = session.get(RoundRow, rid)
            now = time.time()
            if row is None:
                # Presumed abort: a round we never prepared can never get our signature.
                session.add(
                    RoundRow(
                        id=rid,
                        ledger_name=ledger,
                        kind="",
                        actor=actor,
                        status="aborted",
                        base_size=0,
                        base_root="",
                        new_size=0,
                        new_root="",
                        proposal_json="",
                        certificate_json=None,
                        deadline=now,
                        created_at=now,
                        updated_at=now,
                    )
                )
                session.commit()
                return "aborted"
            if row.status == "prepared":
                row.status = "aborted"
                row.proposal_json = ""
                row.updated_at = now
                session.commit()
            return row.status

    def round_status(self, rid: str, *, presume_abort: bool) -> dict[str, Any]:
        """What a peer asking about ``rid`` is told (signed, so it cannot be forged)."""
        with self.lock, self.sessions() as session:
            row = session.get(RoundRow, rid)
            if row is None and presume_abort:
                session.close()
                self.abort(rid)
                status, certificate = "aborted", None
            elif row is None:
                status, certificate = "unknown", None
            else:
                status = row.status
                certificate = (
                    json.loads(row.certificate_json)
                    if row.certificate_json and status in ("committed", "finished")
                    else None
                )
            answer = {"round": rid, "participant": self.me.name, "status": status}
            return {**answer, "certificate": certificate, "signature": self.me.sign(answer)}

    def open_rounds(self) -> list[RoundRow]:
        with self.sessions() as session:
            return list(
                session.scalars(select(RoundRow).where(RoundRow.status.in_((*OPEN, "committed"))))
            )

    def round(self, rid: str) -> RoundRow | None:
        with self.sessions() as session:
            return session.get(RoundRow, rid)

    # -- reading -------------------------------------------------------------------------------
    def ledger_state(self, name: str) -> tuple[LedgerRow | None, MerkleTree]:
        with self.lock, self.sessions() as session:
            ledger = session.scalar(select(LedgerRow).where(LedgerRow.name == name))
            return ledger, self._tree(session, ledger, name)

    def plan(self, name: str, leaves: list[bytes]) -> tuple[int | None, str, str]:
        """(size or None if no such ledger, its root, the root after ``leaves``), read
        under the lock so a round being applied meanwhile cannot tear the tree."""
        with self.lock, self.sessions() as session:
            ledger = session.scalar(select(LedgerRow).where(LedgerRow.name == name))
            tree = self._tree(session, ledger, name)
            size = ledger.size if ledger is not None else None
            return size, tree.root().hex(), tree.root_with(leaves).hex()

    def open_round_of(self, name: str) -> RoundRow | None:
        with self.sessions() as session:
            return session.scalar(
                select(RoundRow).where(RoundRow.ledger_name == name, RoundRow.status.in_(OPEN))
            )

    def count_ledgers(self) -> int:
        with self.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(LedgerRow)) or 0)

    def ledgers(self, offset: int, limit: int) -> list[dict[str, Any]]:
        with self.sessions() as session:
            rows = session.scalars(
                select(LedgerRow).order_by(LedgerRow.id.desc()).offset(offset).limit(limit)
            )
            return [ledger_item(session, row) for row in rows]

    def ledger(self, ledger_id: int) -> dict[str, Any] | None:
        with self.sessions() as session:
            row = session.get(LedgerRow, ledger_id)
            return None if row is None else ledger_item(session, row)

    def ledger_by_name(self, name: str) -> dict[str, Any] | None:
        with self.sessions() as session:
            row = session.scalar(select(LedgerRow).where(LedgerRow.name == name))
            return None if row is None else ledger_item(session, row)

    def count_transactions(self, ledger_id: int) -> int:
        with self.sessions() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(TransactionRow)
                    .where(TransactionRow.ledger_id == ledger_id)
                )
                or 0
            )

    def transactions(self, ledger_id: int, offset: int, limit: int) -> list[dict[str, Any]]:
        with self.sessions() as session:
            rows = session.scalars(
                select(TransactionRow)
                .where(TransactionRow.ledger_id == ledger_id)
                .order_by(TransactionRow.seq_no.desc())
                .offset(offset)
                .limit(limit)
            )
            return transaction_items(session, list(rows))

    def transaction(self, ledger_id: int, seq_no: int) -> dict[str, Any] | None:
        with self.sessions() as session:
            row = session.scalar(
                select(TransactionRow).where(
                    TransactionRow.ledger_id == ledger_id, TransactionRow.seq_no == seq_no
                )
            )
            return None if row is None else transaction_items(session, [row])[0]

    def proof(self, ledger_id: int, seq_no: int) -> dict[str, Any] | None:
        """An inclusion proof of one transaction against the ledger's current root."""
        with self.lock, self.sessions() as session:
            ledger = session.get(LedgerRow, ledger_id)
            if ledger is None:
                return None
            row = session.scalar(
                select(TransactionRow).where(
                    TransactionRow.ledger_id == ledger_id, TransactionRow.seq_no == seq_no
                )
            )
            if row is None:
                return None
            tree = self._tree(session, ledger, ledger.name)
            path = tree.inclusion_proof(seq_no - 1)
            return {
                "ledger": {"id": ledger.id, "name": ledger.name},
                "seq_no": seq_no,
                "leaf_index": seq_no - 1,
                "tree_size": ledger.size,
                "entry": row.entry_json,
                "leaf_hash": row.leaf_hash,
                "audit_path": [node.hex() for node in path],
                "root_hash": ledger.root_hash,
                "round": ledger.last_round,
                "signatures": certificate(session, ledger.last_round),
                "hashing": HASHING,
            }

    # -- tokens --------------------------------------------------------------------------------
    def new_token(self, token: str, username: str, ttl: float) -> float:
        now = time.time()
        with self.sessions() as session:
            # Expired and revoked tokens are only clutter: the table stays small.
            session.execute(
                delete(TokenRow).where((TokenRow.expires_at <= now) | (TokenRow.revoked != 0))
            )
            session.add(
                TokenRow(
                    digest=token_digest(token),
                    username=username,
                    created_at=now,
                    expires_at=now + ttl,
                    revoked=0,
                )
            )
            session.commit()
        self._tokens = {d: v for d, v in self._tokens.items() if v[1] > now}
        self._remember_token(token_digest(token), username, now + ttl)
        return now + ttl

    def cached_token_user(self, token: str) -> str | None:
        """The user of a live token this process knows (no database access); else None."""
        cached = self._tokens.get(token_digest(token))
        if cached is not None and cached[1] > time.time():
            return cached[0]
        return None

    def token_user(self, token: str) -> str | None:
        digest = token_digest(token)
        cached = self._tokens.get(digest)
        if cached is not None:
            user, expires = cached
            return user if expires > time.time() else None
        with self.sessions() as session:
            row = session.get(TokenRow, digest)
            if row is None or row.revoked or row.expires_at <= time.time():
                return None
            self._remember_token(digest, row.username, row.expires_at)
            return row.username

    def _remember_token(self, digest: str, username: str, expires: float) -> None:
        # Live tokens only (revocation removes them); bounded, the database stays the truth.
        if len(self._tokens) >= 10_000:
            self._tokens.clear()
        self._tokens[digest] = (username, expires)

    def revoke_token(self, token: str, username: str) -> bool:
        cached = self._tokens.get(token_digest(token))
        if cached is not None and cached[0] == username:
            self._tokens.pop(token_digest(token), None)
        with self.sessions() as session:
            result = session.execute(
                update(TokenRow)
                .where(
                    TokenRow.digest == token_digest(token),
                    TokenRow.username == username,
                    TokenRow.revoked == 0,
                )
                .values(revoked=1)
            )
            session.commit()
            return bool(getattr(result, "rowcount", 0))
