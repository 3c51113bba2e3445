"""The words of the ledger's consensus (services/ledger/consensus.py): the progress stages
a websocket client is told, the outcome or error of a request, and the structure checks of
what a peer sends (a proposal, a round id) before its content is looked at."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CREATE_STAGES",
    "ISSUE_STAGES",
    "ROUND_ID",
    "ConsensusError",
    "KeyConflict",
    "Outcome",
    "ProtocolError",
    "Stages",
    "check_proposal",
    "round_of",
]

ROUND_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class Stages:
    start: str
    propose: str
    proposed: str
    validate_propose: tuple[int, str]
    commit: str
    committed: str
    validate_commit: str
    post_commit: str
    accepted: str
    unconfirmed: str
    reset: str
    failed: str


CREATE_STAGES = Stages(
    start="Create ledger [{name}]",
    propose="Send propose",
    proposed="Received responses from all participants",
    validate_propose=(40, "Validate responses"),
    commit="Send commit request",
    committed="Received commit responses",
    validate_commit="Validate commit responses from neighbours",
    post_commit="All checks OK. Send Ack to neighbors",
    accepted="All participants accepted ledger creation",
    unconfirmed="Ledger creation was accepted; not confirmed in time by {missing}: they "
    "finish the round when they recover",
    reset="Reset ledger",
    failed='Creation of new ledger was terminated with error: \n"{explain}"',
)
ISSUE_STAGES = Stages(
    start="Start committing {count} transactions",
    propose="Send Propose to participants",
    proposed="Received Propose from participants",
    validate_propose=(50, "Validate responses"),
    commit="Send Commit to participants",
    committed="Received Commit response from participants",
    validate_commit="Validate responses",
    post_commit="Send Post-Commit",
    accepted="Commit operation was accepted by all participants",
    unconfirmed="Commit operation was accepted; not confirmed in time by {missing}: they "
    "finish the round when they recover",
    reset="Reset uncommitted",
    failed='Accepting of new transactions was terminated with error: \n"{explain}"',
)


class ConsensusError(Exception):
    """The request failed; ``explain`` is the problem_report's text."""

    def __init__(self, explain: str) -> None:
        super().__init__(explain)
        self.explain = explain


class KeyConflict(ConsensusError):
    """The idempotency key names a transaction with another body (a request_error)."""


@dataclass(frozen=True)
class Outcome:
    """A committed request: the ledger's id, the transaction's ``seq_no`` (issue), the
    participants that had not confirmed by the time to live (committed all the same: they
    finish the round when they recover), and whether an earlier request with the same
    idempotency key committed it (``replayed``: nothing new was written)."""

    ledger_id: int
    seq_no: int | None = None
    unconfirmed: tuple[str, ...] = ()
    replayed: bool = False


class ProtocolError(ValueError):
    """A peer's message that is not what the protocol says (answered with 400)."""


def check_proposal(
    body: Any, *, caller: str, participants: list[str], max_batch: int
) -> dict[str, Any]:
    """The structure of a proposal (its content is checked by Store.prepare)."""
    if not isinstance(body, dict):
        raise ProtocolError("the proposal must be a JSON object")
    types: dict[str, type | tuple[type, ...]] = {
        "round": str,
        "kind": str,
        "ledger": str,
        "actor": str,
        "participants": list,
        "base_size": int,
        "base_root": str,
        "new_size": int,
        "new_root": str,
        "entries": list,
        "deadline": (int, float),
    }
    for key, kind in types.items():
        if not isinstance(body.get(key), kind) or isinstance(body.get(key), bool):
            raise ProtocolError(f"proposal field [{key}] is missing or of the wrong type")
    if not ROUND_ID.match(body["round"]):
        raise ProtocolError("proposal field [round] must be 32 hex digits")
    if body["kind"] not in ("create", "commit"):
        raise ProtocolError("proposal field [kind] must be create or commit")
    if body["actor"] != caller:
        raise ProtocolError("only the actor may propose its round")
    if body["participants"] != participants:
        raise ProtocolError("the proposal's participants are not ours")
    if body["kind"] == "create" and not isinstance(body.get("metadata"), dict):
        raise ProtocolError("a create proposal needs [metadata]")
    if not 0 < len(body["entries"]) <= max_batch:
        raise ProtocolError(f"a round has 1..{max_batch} entries")
    if len(body["ledger"]) > 128 or not body["ledger"]:
        raise ProtocolError("proposal field [ledger] must be 1..128 characters")
    return body


def round_of(body: Any) -> str:
    """The round id a peer's message names (32 hex digits)."""
    rid = body.get("round") if isinstance(body, dict) else None
    if not isinstance(rid, str) or not ROUND_ID.match(rid):
        raise ProtocolError("[round] must be 32 hex digits")
    return rid
