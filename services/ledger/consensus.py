"""Consensus among the participants: the original's stages, made crash-safe.

The participant that receives a websocket request is the *actor* of its round:

1. **propose** - the actor signs the new transactions, works out the new Merkle root and
   sends the proposal (with the root) to every participant. Each checks it against its own
   ledger (same base root, same new root, valid transactions and actor signature), records
   the round as *prepared* (its ledger is now locked) and answers with its signature over
   the new state.
2. **commit** - with every signature (the *certificate*) the actor commits itself (its
   decision, durable before anyone else hears of it), then sends the certificate; each
   participant verifies it, writes the transactions and answers with a signed receipt.
3. **post-commit** - with every receipt the actor answers the client; in the background it
   sends the receipts and each participant closes the round.
4. **flush** - the actor closes its own round.

Any refusal, bad signature or timeout (the request's ``time_to_live``) before the decision
aborts the round everywhere: nothing is written anywhere. After the decision the round is
committed: a participant that misses the commit (killed, restarted) finishes it when it
recovers, by asking its peers (``self.recovery``, services/ledger/recovery.py, at start and
then periodically).

Concurrent ``issue-transaction`` requests for one ledger are committed together: while a
round is in flight the requests that arrive queue up and go into the next round.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from services.ledger.crypto import encode_public_key
from services.ledger.merkle import leaf_hash
from services.ledger.messages import CreateLedger, IssueTransaction, idempotency_digest
from services.ledger.peers import PeerClient, PeerError
from services.ledger.protocol import (
    CREATE_STAGES,
    ISSUE_STAGES,
    ConsensusError,
    KeyConflict,
    Outcome,
    ProtocolError,
    Stages,
    check_proposal,
    round_of,
)
from services.ledger.recovery import Recovery
from services.ledger.settings import LedgerSettings
from services.ledger.statements import (
    Identity,
    commit_statement,
    entry_bytes,
    state_statement,
    txn_signed_part,
)
from services.ledger.store import Refused, Store
from shared import faults
from shared.db import run_db
from shared.retry import Backoff

# ConsensusError, KeyConflict, Outcome and ProtocolError live in services/ledger/protocol.py;
# named here too, where callers of the consensus have always found them.
__all__ = ["Consensus", "ConsensusError", "KeyConflict", "Outcome", "Progress", "ProtocolError"]

log = logging.getLogger("ledger.consensus")

Progress = Callable[[float | None, str], Awaitable[None]]
SIGNATURE_TYPE = "ed25519-sha512-canonical-json"


@dataclass
class _Pending:
    txn: dict[str, Any]
    ttl: float
    progress: Progress
    size: int
    key: str | None = None
    digest: str | None = None
    seq_no: int | None = None
    future: asyncio.Future[Outcome] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


def _now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class Consensus:
    def __init__(
        self, settings: LedgerSettings, store: Store, identity: Identity, peers: PeerClient
    ) -> None:
        self.settings = settings
        self.store = store
        self.me = identity
        self.peers = peers
        self.peer_names = [p.name for p in settings.peers]
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self._queues: dict[str, list[_Pending]] = {}
        self._drains: dict[str, asyncio.Task[None]] = {}
        self.active_rounds: set[str] = set()
        # (ledger, idempotency key) -> the request in a queue or round with that key
        self._inflight: dict[tuple[str, str], _Pending] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.closing_rounds: set[str] = set()
        self.started = time.time()
        self.recovery = Recovery(self)

    @contextlib.asynccontextmanager
    async def _ledger_lock(self, name: str) -> AsyncIterator[None]:
        """One round per ledger at a time here; entries go when nobody holds or awaits them
        (names come from clients, so the table must not only grow)."""
        lock, users = self._locks.get(name) or (asyncio.Lock(), 0)
        self._locks[name] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[name]
            if users <= 1:
                del self._locks[name]
            else:
                self._locks[name] = (lock, users - 1)

    # -- requests from the websocket --------------------------------------------------------
    async def create_ledger(self, request: CreateLedger, progress: Progress) -> Outcome:
        stages = CREATE_STAGES
        name = request.name
        await progress(0, stages.start.format(name=name))
        async with self._ledger_lock(name):
            try:
                entries = self._sign_entries(request.genesis, 0)
                metadata = {
                    "actor": {"label": self.me.name, "public_key": self._public_key()},
                    "local_timestamp_utc": _now_iso(),
                    "participants": self.me.participants,
                }
                missing = await self._round(
                    "create", name, entries, request.time_to_live, progress, stages, metadata
                )
            except ConsensusError as error:
                await self._report_abort(progress, stages)
                raise ConsensusError(stages.failed.format(explain=error.explain)) from None
        await progress(None, "Ledger creation terminated successfully")
        ledger = await run_db(self.store.ledger_by_name, name)
        assert ledger is not None
        return Outcome(int(ledger["id"]), None, tuple(missing))

    async def issue(self, request: IssueTransaction, progress: Progress) -> Outcome:
        """Queue one transaction for the next round of its ledger; the outcome when done.

        With an idempotency key, a transaction already committed under it (or in a queue
        or round here) is the answer: nothing is written twice. The same key with another
        body is a :class:`KeyConflict`."""
        name, key = request.ledger, request.idempotency_key
        digest = idempotency_digest(request.txn) if key is not None else None
        if key is not None and digest is not None:
            earlier = await self._earlier(name, key, digest, progress)
            if earlier is not None:
                return earlier
        size = len(json.dumps(request.txn)) + 512
        pending = _Pending(request.txn, request.time_to_live, progress, size, key, digest)
        if key is not None:
            self._inflight[(name, key)] = pending
        self._queues.setdefault(name, []).append(pending)
        if name not in self._drains:
            self._drains[name] = asyncio.create_task(self._drain(name), name=f"drain-{name}")
        # A client that goes away does not stop its round: the future outlives it.
        return await asyncio.shield(pending.future)

    async def _earlier(
        self, name: str, key: str, digest: str, progress: Progress
    ) -> Outcome | None:
        """The outcome of the transaction with this key if one is committed or on its way."""
        found = await run_db(self.store.find_key, name, key)
        if found is not None:
            stored, seq_no, ledger_id = found
            if stored != digest:
                raise KeyConflict(self._conflict(name, key, f"seq_no {seq_no}"))
            await progress(
                100,
                f"Transaction with idempotency key [{key}] is already committed as seq_no {seq_no}",
            )
            return Outcome(ledger_id, seq_no, (), True)
        # no await between this check and the caller's registration of its own request
        inflight = self._inflight.get((name, key))
        if inflight is None:
            return None
        if inflight.digest != digest:
            raise KeyConflict(self._conflict(name, key, "a transaction being committed"))
        await progress(
            None, f"Transaction with idempotency key [{key}] is being committed: waiting for it"
        )
        outcome = await asyncio.shield(inflight.future)
        return replace(outcome, replayed=True)

    @staticmethod
    def _conflict(name: str, key: str, what: str) -> str:
        return (
            f"[idempotency_key] {key} is already used in ledger [{name}] by {what} with "
            "a different body; a new transaction needs a new key"
        )

    async def _drain(self, name: str) -> None:
        try:
            while self._queues.get(name):
                queue = self._queues[name]
                batch = self._take_batch(queue)
                try:
                    ledger_id, missing = await self._commit_batch(name, batch)
                except ConsensusError as error:
                    for item in batch:
                        if not item.future.done():
                            item.future.set_exception(ConsensusError(error.explain))
                except Exception as error:  # pragma: no cover - a defect, reported not hidden
                    log.exception("event=commit_crashed ledger=%s", name)
                    for item in batch:
                        if not item.future.done():
                            item.future.set_exception(
                                ConsensusError(f"internal error: {type(error).__name__}")
                            )
                else:
                    for item in batch:
                        if not item.future.done():
                            item.future.set_result(Outcome(ledger_id, item.seq_no, missing))
                finally:
                    for item in batch:
                        if item.key is not None and self._inflight.get((name, item.key)) is item:
                            del self._inflight[(name, item.key)]
        finally:
            self._drains.pop(name, None)
            if not self._queues.get(name):
                self._queues.pop(name, None)

    def _take_batch(self, queue: list[_Pending]) -> list[_Pending]:
        """The next round's requests: at most LEDGER_MAX_BATCH, and a proposal that stays
        well inside the peers' body limit (one request always goes, whatever its size)."""
        budget = 2 * self.settings.ledger_max_message_bytes
        count, used = 0, 0
        for item in queue[: self.settings.ledger_max_batch]:
            if count and used + item.size > budget:
                break
            count += 1
            used += item.size
        batch = queue[:count]
        del queue[:count]
        return batch

    async def _commit_batch(self, name: str, batch: list[_Pending]) -> tuple[int, tuple[str, ...]]:
        """Commit the batch in one round: (ledger id, participants that did not confirm)."""
        stages = ISSUE_STAGES
        async with self._ledger_lock(name):
            # A request whose key another participant's round committed meanwhile is
            # answered from the ledger, not proposed again (the participants would refuse
            # the whole round for it).
            todo = []
            for item in batch:
                found = (
                    await run_db(self.store.find_key, name, item.key)
                    if item.key is not None
                    else None
                )
                if found is None:
                    todo.append(item)
                elif found[0] != item.digest:
                    item.future.set_exception(
                        KeyConflict(self._conflict(name, str(item.key), f"seq_no {found[1]}"))
                    )
                else:
                    item.future.set_result(Outcome(found[2], found[1], (), True))
            if not todo:
                return 0, ()

            async def progress(value: float | None, message: str) -> None:
                await asyncio.gather(*(item.progress(value, message) for item in todo))

            await progress(0, stages.start.format(count=len(todo)))
            try:
                ledger, _ = await run_db(self.store.ledger_state, name)
                if ledger is None:
                    raise ConsensusError(f"ledger [{name}] does not exist")
                entries = self._sign_entries([item.txn for item in todo], ledger.size)
                for item, entry in zip(todo, entries, strict=True):
                    item.seq_no = int(entry["txnMetadata"]["seqNo"])
                ttl = min(item.ttl for item in todo)
                missing = await self._round("commit", name, entries, ttl, progress, stages, None)
            except ConsensusError as error:
                await self._report_abort(progress, stages)
                raise ConsensusError(stages.failed.format(explain=error.explain)) from None
            return ledger.id, tuple(missing)

    def _public_key(self) -> str:
        return encode_public_key(self.me.key.public_key())

    def _sign_entries(self, txns: list[dict[str, Any]], base_size: int) -> list[dict[str, Any]]:
        stamp = _now_iso()
        entries = []
        for offset, txn in enumerate(txns):
            body = txn_signed_part(txn)
            signed = dict(body)
            signed["msg~sig"] = {
                "@type": SIGNATURE_TYPE,
                "signer": self.me.name,
                "signature": self.me.sign(body),
            }
            entries.append(
                {"txn": signed, "txnMetadata": {"seqNo": base_size + offset + 1, "txnTime": stamp}}
            )
        return entries

    # -- one round, as the actor ------------------------------------------------------------
    async def _round(
        self,
        kind: str,
        name: str,
        entries: list[dict[str, Any]],
        ttl: float,
        progress: Progress,
        stages: Stages,
        metadata: dict[str, Any] | None,
    ) -> list[str]:
        """One round as the actor; the participants that did not confirm the commit in
        time (committed all the same, see :meth:`_run_round`)."""
        rid = uuid.uuid4().hex
        deadline = time.time() + ttl
        leaves = [leaf_hash(entry_bytes(e)) for e in entries]
        size, base_root, new_root = await run_db(self.store.plan, name, leaves)
        if kind == "commit" and size is None:
            raise ConsensusError(f"ledger [{name}] does not exist")
        base_size = size or 0
        proposal: dict[str, Any] = {
            "round": rid,
            "kind": kind,
            "ledger": name,
            "actor": self.me.name,
            "participants": self.me.participants,
            "base_size": base_size,
            "base_root": base_root,
            "new_size": base_size + len(entries),
            "new_root": new_root,
            "entries": entries,
            "deadline": deadline,
        }
        if metadata is not None:
            proposal["metadata"] = metadata
        self.active_rounds.add(rid)
        try:
            return await self._run_round(proposal, progress, stages)
        finally:
            self.active_rounds.discard(rid)

    async def _run_round(
        self, proposal: dict[str, Any], progress: Progress, stages: Stages
    ) -> list[str]:
        rid, name, deadline = proposal["round"], proposal["ledger"], proposal["deadline"]
        started = time.monotonic()
        # Stage 1: propose; every participant checks and signs (we too, at the same time).
        await progress(20, stages.propose)
        own_task = asyncio.ensure_future(self._prepare_here(proposal))
        answers = await self.broadcast("/participant/propose", proposal, deadline)
        own = await own_task
        await progress(30, stages.proposed)
        await progress(stages.validate_propose[0], stages.validate_propose[1])
        statement = state_statement(name, rid, proposal["new_size"], proposal["new_root"])
        signatures: dict[str, str] = {}
        problems = []
        if isinstance(own, Refused):
            problems.append(str(own))
        else:
            signatures[self.me.name] = own
        for peer in self.peer_names:
            answer = answers[peer]
            if isinstance(answer, PeerError):
                problems.append(str(answer))
            elif not self.me.verify(peer, statement, answer.get("signature")):
                problems.append(f"{peer}: signature does not verify")
            else:
                signatures[peer] = answer["signature"]
        if not problems and time.time() > deadline:
            problems.append("time_to_live exceeded before every participant answered")
        if problems:
            await self.abort_round(rid, name)
            log.info("event=round_aborted round=%s ledger=%s why=%r", rid, name, problems)
            raise ConsensusError("; ".join(problems))
        # The decision: our own commit, with every signature stored, before anyone is told.
        receipts = {self.me.name: await run_db(self.store.apply, rid, signatures)}
        await faults.pause_async("ledger.after_decision", round=rid)
        # Stage 2: commit with all signatures.
        await progress(60, stages.commit)
        missing = await self.deliver_commit(
            rid, signatures, proposal["new_root"], receipts, deadline
        )
        await progress(70, stages.committed)
        await progress(80, stages.validate_commit)
        if missing:
            # Decided: the transactions are committed (here, and wherever the certificate
            # arrived); those that did not confirm finish the round on recovery (asking
            # us or a peer for the certificate). The client is told it is committed.
            log.warning("event=commit_unconfirmed round=%s missing=%s", rid, ",".join(missing))
            await progress(100, stages.unconfirmed.format(missing=", ".join(missing)))
            return missing
        # Stage 3: post-commit; stage 4: flush. Everyone has committed (the receipts say
        # so); closing the round is bookkeeping, so the client need not wait for it.
        await progress(90, stages.post_commit)
        self.closing_rounds.add(rid)  # recovery leaves it to the post-commit below
        self._background(self._post_commit(rid, receipts, deadline))
        log.info(
            "event=round_committed round=%s ledger=%s size=%s ms=%.1f",
            rid,
            name,
            proposal["new_size"],
            (time.monotonic() - started) * 1000,
        )
        await progress(100, stages.accepted)
        return []

    async def _prepare_here(self, proposal: dict[str, Any]) -> str | Refused:
        try:
            return await run_db(self.store.prepare, proposal)
        except Refused as error:
            return error

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post_commit(self, rid: str, receipts: dict[str, str], deadline: float) -> None:
        try:
            await self.broadcast(
                "/participant/post-commit",
                {"round": rid, "receipts": receipts},
                max(deadline, time.time() + 1.0),
            )
            await run_db(self.store.finish, rid, receipts)
        except Exception:  # pragma: no cover - recovery closes the round later
            log.exception("event=post_commit_failed round=%s", rid)
        finally:
            self.closing_rounds.discard(rid)

    async def close(self) -> None:
        """Let the post-commits in flight finish (bounded), at shutdown."""
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=2.0)

    async def _report_abort(self, progress: Progress, stages: Stages) -> None:
        await progress(None, stages.reset)
        await progress(100, "Terminated with error")

    async def deliver_commit(
        self,
        rid: str,
        signatures: dict[str, str],
        root: str,
        receipts: dict[str, str],
        deadline: float,
    ) -> list[str]:
        """Send the certificate to every peer (retrying until ``deadline``); who lacks it."""
        statement = commit_statement(rid, root)
        body = {"round": rid, "signatures": signatures}

        async def one(peer: str) -> None:
            await faults.pause_async("ledger.before_commit_to", peer, round=rid)
            backoff = Backoff(0.05, 1.0)
            while True:
                try:
                    answer = await self.peers.call(
                        peer, "/participant/commit", body, deadline - time.time()
                    )
                except PeerError as error:
                    if error.refused or time.time() + 0.05 >= deadline:
                        log.warning("event=commit_not_delivered round=%s peer=%s", rid, peer)
                        return
                    await asyncio.sleep(min(backoff.next_delay(), max(0.0, deadline - time.time())))
                    continue
                if self.me.verify(peer, statement, answer.get("receipt")):
                    receipts[peer] = answer["receipt"]
                return

        todo = [p for p in self.peer_names if p not in receipts]
        await asyncio.gather(*(one(peer) for peer in todo))
        return [p for p in self.peer_names if p not in receipts]

    async def abort_round(self, rid: str, name: str) -> None:
        await run_db(self.store.abort, rid, name, self.me.name)
        # Best effort: a peer that misses this asks us during its recovery.
        await self.broadcast(
            "/participant/abort",
            {"round": rid},
            time.time() + min(2.0, self.settings.ledger_ping_timeout),
        )

    async def broadcast(
        self, path: str, payload: dict[str, Any], deadline: float
    ) -> dict[str, dict[str, Any] | PeerError]:
        async def one(peer: str) -> dict[str, Any] | PeerError:
            try:
                return await self.peers.call(peer, path, payload, deadline - time.time())
            except PeerError as error:
                return error

        results = await asyncio.gather(*(one(peer) for peer in self.peer_names))
        return dict(zip(self.peer_names, results, strict=True))

    # -- what a participant answers ---------------------------------------------------------
    def check_proposal(self, caller: str, body: Any) -> dict[str, Any]:
        """The structure of a proposal (its content is checked by Store.prepare)."""
        return check_proposal(
            body,
            caller=caller,
            participants=self.me.participants,
            max_batch=self.settings.ledger_max_batch,
        )

    async def on_propose(self, caller: str, body: Any) -> dict[str, Any]:
        proposal = self.check_proposal(caller, body)
        if proposal["deadline"] < time.time():
            raise Refused("the proposal's time_to_live has passed")
        signature = await run_db(self.store.prepare, proposal)
        await faults.pause_async("ledger.after_prepare")
        return {"participant": self.me.name, "signature": signature}

    async def on_commit(self, caller: str, body: Any) -> dict[str, Any]:
        rid = round_of(body)
        await faults.pause_async("ledger.before_apply", round=rid)
        receipt = await run_db(self.store.apply, rid, body.get("signatures"))
        return {"participant": self.me.name, "receipt": receipt}

    async def on_post_commit(self, caller: str, body: Any) -> dict[str, Any]:
        rid = round_of(body)
        await run_db(self.store.finish, rid, body.get("receipts"))
        return {"participant": self.me.name, "status": "finished"}

    async def on_abort(self, caller: str, body: Any) -> dict[str, Any]:
        rid = round_of(body)
        row = await run_db(self.store.round, rid)
        if row is not None and row.actor != caller:
            raise Refused("only the round's actor may abort it")
        status = await run_db(self.store.abort, rid, "", caller)
        return {"participant": self.me.name, "status": status}

    async def on_status(self, caller: str, body: Any) -> dict[str, Any]:
        rid = round_of(body)
        if rid in self.active_rounds:
            answer = {"round": rid, "participant": self.me.name, "status": "prepared"}
            return {**answer, "certificate": None, "signature": self.me.sign(answer)}
        return await run_db(self.store.round_status, rid, presume_abort=True)

    def pong(self, body: Any) -> dict[str, Any]:
        nonce = body.get("nonce") if isinstance(body, dict) else None
        if not isinstance(nonce, str) or len(nonce) > 64:
            raise ProtocolError("ping needs a [nonce] string")
        answer = {"pong": nonce, "participant": self.me.name}
        return {**answer, "signature": self.me.sign(answer)}

    # -- health -----------------------------------------------------------------------------
    async def ping_all(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Ping every peer and wait for the signed pongs: (answered, missing)."""
        timeout = self.settings.ledger_ping_timeout

        async def one(peer: str) -> dict[str, Any]:
            nonce = secrets.token_hex(8)
            started = time.monotonic()
            try:
                answer = await self.peers.call(peer, "/participant/ping", {"nonce": nonce}, timeout)
            except PeerError as error:
                return {"participant": peer, "error": str(error).split(": ", 1)[-1]}
            ms = round((time.monotonic() - started) * 1000, 2)
            expected = {"pong": nonce, "participant": peer}
            if not self.me.verify(peer, expected, answer.get("signature")):
                return {"participant": peer, "error": "pong signature does not verify"}
            return {"participant": peer, "ms": ms}

        results = await asyncio.gather(*(one(peer) for peer in self.peer_names))
        answered = [r for r in results if "ms" in r]
        missing = [r for r in results if "error" in r]
        return answered, missing
