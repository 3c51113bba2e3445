"""IRI 1.8 HTTP API commands: parameter checks, reply shapes and error codes (PROTOCOLS.md s.1).

``IriApi.dispatch`` takes the decoded JSON body and returns (HTTP status, reply);
the FastAPI route in services.devnet.app adds the header check, JSON decoding,
``duration`` and CORS.
"""

from __future__ import annotations

import platform
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from services.devnet.node import AttachBusy, AttachTimedOut, DevnetNode
from services.devnet.tangle import TangleError
from shared.iota.pow import PowInterrupted
from shared.iota.transaction import TRANSACTION_TRYTES
from shared.iota.trinary import is_trytes

__all__ = ["LIMITS", "ApiError", "IriApi", "StreamedList"]

LIMITS = {
    "maxFindTransactions": 100_000,
    "maxRequestsList": 1_000,
    "maxGetTrytes": 10_000,
    "maxBodyLength": 1_000_000,
    "maxDepth": 15,
}
APP_NAME = "IRI Testnet"
APP_VERSION = "1.8.6-devnet"


class ApiError(Exception):
    """An IRI error reply: 400 -> {"error"}, 401 -> {"error"}, 500 -> {"exception"}."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def body(self) -> dict[str, Any]:
        key = "exception" if self.status >= 500 else "error"
        return {key: self.message}


# Items per piece of a streamed answer: 500 transactions are ~1.3 MB of trytes.
STREAM_CHUNK = 500


@dataclass(frozen=True)
class StreamedList:
    """An answer list (getTrytes' trytes, findTransactions' hashes) produced piece by
    piece while it is sent, so the node never holds a 27 MB answer (and its JSON
    encodings) whole: ``fetch`` turns ``STREAM_CHUNK`` items at a time into the answer's
    items (a blocking database read, run in a worker thread)."""

    items: Sequence[str]
    fetch: Callable[[Sequence[str]], list[str]] | None = None

    def pieces(self) -> list[Sequence[str]]:
        return [
            self.items[start : start + STREAM_CHUNK]
            for start in range(0, len(self.items), STREAM_CHUNK)
        ]

    def materialise(self) -> list[str]:
        out: list[str] = []
        for piece in self.pieces():
            out.extend(self.fetch(piece) if self.fetch is not None else piece)
        return out


def _bad(message: str) -> ApiError:
    return ApiError(400, message)


def _invalid(message: str = "Invalid parameters") -> ApiError:
    # IRI 1.8.x answers malformed parameters with a 500 exception (PROTOCOLS.md s.1).
    return ApiError(500, message)


def _list(body: dict[str, Any], key: str, *, required: bool = True) -> list[Any]:
    value = body.get(key)
    if value is None:
        if required:
            raise _invalid(f"Invalid parameters: {key} is missing")
        return []
    if not isinstance(value, list):
        raise _invalid(f"Invalid {key} input")
    if len(value) > LIMITS["maxRequestsList"] and key not in ("hashes",):
        raise _bad(f"Too many {key} (maxRequestsList {LIMITS['maxRequestsList']})")
    return value


def _hashes(body: dict[str, Any], key: str, *, required: bool = True) -> list[str]:
    items = _list(body, key, required=required)
    for item in items:
        if not isinstance(item, str) or not is_trytes(item, 81):
            raise _invalid(f"Invalid {key} input")
    return items


def _addresses(body: dict[str, Any], key: str = "addresses", *, required: bool = True) -> list[str]:
    items = _list(body, key, required=required)
    out = []
    for item in items:
        if not isinstance(item, str) or len(item) not in (81, 90) or not is_trytes(item):
            raise _invalid("Invalid addresses input")
        out.append(item[:81])
    return out


def _trytes_list(body: dict[str, Any]) -> list[str]:
    items = _list(body, "trytes")
    for item in items:
        if not isinstance(item, str) or not is_trytes(item, TRANSACTION_TRYTES):
            raise _invalid("Invalid trytes input")
    return items


def _int(body: dict[str, Any], key: str, message: str) -> int:
    value = body.get(key)
    if isinstance(value, bool):
        raise _bad(message)
    # ASCII digits only: str.isdigit() also accepts "²" and "١", and lstrip("-") accepted
    # "--1"; int() then raised and the client got a bare 500.
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,20}", value):
        value = int(value)
    if not isinstance(value, int):
        raise _bad(message)
    return value


@dataclass(eq=False)
class IriApi:
    """The IRI command set over one DevnetNode."""

    node: DevnetNode
    coordinator_address: str
    _: KW_ONLY
    max_attach_mwm: int = 14
    max_attach_transactions: int = 100
    # True (the HTTP app): getTrytes and findTransactions answer a StreamedList the
    # route sends piece by piece; False: whole lists (unit tests, in-process callers).
    streaming: bool = False
    commands: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = field(init=False)

    def __post_init__(self) -> None:
        self.commands = {
            "getNodeInfo": self.get_node_info,
            "getNodeAPIConfiguration": self.get_node_api_configuration,
            "findTransactions": self.find_transactions,
            "getTrytes": self.get_trytes,
            "getBalances": self.get_balances,
            "getInclusionStates": self.get_inclusion_states,
            "getTransactionsToApprove": self.get_transactions_to_approve,
            "attachToTangle": self.attach_to_tangle,
            "interruptAttachingToTangle": self.interrupt_attaching,
            "storeTransactions": self.store_transactions,
            "broadcastTransactions": self.broadcast_transactions,
            "wereAddressesSpentFrom": self.were_addresses_spent_from,
            "checkConsistency": self.check_consistency,
            "getNeighbors": lambda _body: {"neighbors": []},
            "addNeighbors": lambda _body: {"addedNeighbors": 0},
            "removeNeighbors": lambda _body: {"removedNeighbors": 0},
            "getMissingTransactions": lambda _body: {"hashes": []},
            "getTips": self.get_tips,
        }

    def dispatch(self, body: Any, client: str = "") -> tuple[int, dict[str, Any]]:
        """Run one command for ``client`` (its identity: the peer's IP address), whose
        attaches only its own interruptAttachingToTangle stops."""
        if not isinstance(body, dict) or "command" not in body:
            return 400, {"error": "COMMAND parameter has not been specified in the request."}
        command = body["command"]
        handler = self.commands.get(command) if isinstance(command, str) else None
        if handler is None:
            return 400, {"error": f"Command [{command}] is unknown"}
        try:
            if command == "attachToTangle":
                return 200, self.attach_to_tangle(body, client)
            if command == "interruptAttachingToTangle":
                return 200, self.interrupt_attaching(body, client)
            return 200, handler(body)
        except ApiError as error:
            return error.status, error.body()
        except TangleError as error:
            return 500, {"exception": str(error)}
        except PowInterrupted:
            return 500, {"exception": "attachToTangle was interrupted"}
        except AttachTimedOut as error:
            return 500, {"exception": str(error)}
        except AttachBusy as error:
            return 503, {"exception": str(error)}

    def _require_synced(self) -> None:
        if self.node.tangle.latest_milestone_index < 1:
            raise _bad("This operation cannot be executed: The subtangle has not been updated yet.")

    # -- commands ----------------------------------------------------------

    def get_node_info(self, _body: dict[str, Any]) -> dict[str, Any]:
        tangle = self.node.tangle
        return {
            "appName": APP_NAME,
            "appVersion": APP_VERSION,
            "jreAvailableProcessors": 1,
            "jreFreeMemory": 0,
            "jreMaxMemory": 0,
            "jreTotalMemory": 0,
            "jreVersion": f"python-{platform.python_version()}",
            "latestMilestone": tangle.latest_milestone_hash,
            "latestMilestoneIndex": tangle.latest_milestone_index,
            "latestSolidSubtangleMilestone": tangle.latest_milestone_hash,
            "latestSolidSubtangleMilestoneIndex": tangle.latest_milestone_index,
            "milestoneStartIndex": tangle.milestone_start_index,
            "lastSnapshottedMilestoneIndex": tangle.snapshot_index,
            "neighbors": 0,
            "packetsQueueSize": 0,
            "time": int(time.time() * 1000),
            "tips": tangle.tip_count(),
            "transactionsToRequest": 0,
            "features": ["RemotePOW", "zeroMessageQueue", "testnet"],
            "coordinatorAddress": self.coordinator_address,
        }

    def get_node_api_configuration(self, _body: dict[str, Any]) -> dict[str, Any]:
        return {
            **{k: v for k, v in LIMITS.items() if k != "maxDepth"},
            "testNet": True,
            "milestoneStartIndex": self.node.tangle.milestone_start_index,
        }

    def find_transactions(self, body: dict[str, Any]) -> dict[str, Any]:
        store = self.node.tangle.store
        limit = LIMITS["maxFindTransactions"]
        sets: list[set[str]] = []
        if body.get("bundles") is not None:
            sets.append(store.find("bundle", _hashes(body, "bundles"), limit))
        if body.get("addresses") is not None:
            sets.append(store.find("address", _addresses(body), limit))
        if body.get("approvees") is not None:
            approvees = _hashes(body, "approvees")
            sets.append(
                store.find("trunk", approvees, limit) | store.find("branch", approvees, limit)
            )
        if body.get("tags") is not None:
            tags = []
            for tag in _list(body, "tags"):
                if not isinstance(tag, str) or len(tag) > 27 or not is_trytes(tag):
                    raise _invalid("Invalid tags input")
                tags.append(tag.ljust(27, "9"))
            sets.append(store.find("tag", tags, limit) | store.find("obsolete_tag", tags, limit))
        if not sets:
            raise _invalid(
                "Invalid parameters: no search key (bundles, addresses, tags, approvees)"
            )
        result = set.intersection(*sets)
        if len(result) > limit:
            raise _bad(
                f"Could not complete request: more than maxFindTransactions ({limit}) results"
            )
        hashes = sorted(result)
        if self.streaming:
            return {"hashes": StreamedList(hashes)}
        return {"hashes": hashes}

    def get_trytes(self, body: dict[str, Any]) -> dict[str, Any]:
        hashes = _hashes(body, "hashes")
        if len(hashes) > LIMITS["maxGetTrytes"]:
            raise _bad(
                f"Could not complete request: more than maxGetTrytes ({LIMITS['maxGetTrytes']})"
            )
        answer = StreamedList(hashes, self._trytes_piece)
        return {"trytes": answer if self.streaming else answer.materialise()}

    def _trytes_piece(self, hashes: Sequence[str]) -> list[str]:
        found = self.node.tangle.store.trytes_of(hashes)
        return [found.get(h, "9" * TRANSACTION_TRYTES) for h in hashes]

    def get_balances(self, body: dict[str, Any]) -> dict[str, Any]:
        addresses = _addresses(body)
        if body.get("threshold") is not None:
            threshold = _int(body, "threshold", "Illegal 'threshold'")
            if not 0 <= threshold <= 100:
                raise _bad("Illegal 'threshold'")
        _hashes(body, "tips", required=False)  # accepted and ignored, as IRI 1.8.6 does
        self._require_synced()
        tangle = self.node.tangle
        with tangle.lock:
            balances = [str(tangle.confirmed_balance(a)) for a in addresses]
            return {
                "balances": balances,
                "references": [tangle.latest_milestone_hash],
                "milestoneIndex": tangle.latest_milestone_index,
            }

    def get_inclusion_states(self, body: dict[str, Any]) -> dict[str, Any]:
        hashes = _hashes(body, "transactions")
        _hashes(body, "tips", required=False)  # PyOTA 2.1.0 sends tips; confirmation is global
        self._require_synced()
        tangle = self.node.tangle
        return {"states": [tangle.is_confirmed(h) for h in hashes]}

    def get_transactions_to_approve(self, body: dict[str, Any]) -> dict[str, Any]:
        depth = body.get("depth")
        if isinstance(depth, bool) or not isinstance(depth, int):
            raise _bad("Invalid depth input")
        if not 0 < depth <= LIMITS["maxDepth"]:
            raise _bad("Invalid depth input")
        reference = body.get("reference")
        if reference is not None and (
            not isinstance(reference, str) or not is_trytes(reference, 81)
        ):
            raise _invalid("Invalid reference input")
        self._require_synced()
        trunk, branch = self.node.tangle.select_tips(reference)
        return {"trunkTransaction": trunk, "branchTransaction": branch}

    def attach_to_tangle(self, body: dict[str, Any], client: str = "") -> dict[str, Any]:
        trunk = body.get("trunkTransaction")
        branch = body.get("branchTransaction")
        for name, value in (("trunkTransaction", trunk), ("branchTransaction", branch)):
            if not isinstance(value, str) or not is_trytes(value, 81):
                raise _invalid(f"Invalid {name} input")
        mwm = _int(body, "minWeightMagnitude", "Invalid minWeightMagnitude input")
        if not 1 <= mwm <= 243:
            raise _bad("Invalid minWeightMagnitude input")
        if mwm > self.max_attach_mwm:
            raise _bad(
                f"Invalid minWeightMagnitude input: at most {self.max_attach_mwm} on this "
                "node (DEVNET_ATTACH_MAX_MWM)"
            )
        raw = body.get("trytes")
        if isinstance(raw, list) and len(raw) > self.max_attach_transactions:
            raise _bad(
                f"Too many transactions to attach: {len(raw)}, at most "
                f"{self.max_attach_transactions} per call (DEVNET_ATTACH_MAX_TRANSACTIONS)"
            )
        trytes = _trytes_list(body)
        if not trytes:
            raise _invalid("Invalid trytes input")
        assert isinstance(trunk, str) and isinstance(branch, str)
        return {"trytes": self.node.attach_for_client(trytes, trunk, branch, mwm, client)}

    def interrupt_attaching(self, _body: dict[str, Any], client: str = "") -> dict[str, Any]:
        # Only this client's own attachToTangle calls (issue 20): another client's and the
        # coordinator's proof of work never stop for it (issue 14).
        self.node.interrupt_client_attaches(client)
        return {}

    def store_transactions(self, body: dict[str, Any]) -> dict[str, Any]:
        trytes = _trytes_list(body)
        self.node.store(trytes)
        return {}

    def broadcast_transactions(self, body: dict[str, Any]) -> dict[str, Any]:
        trytes = _trytes_list(body)
        self.node.broadcast(trytes)
        return {}

    def were_addresses_spent_from(self, body: dict[str, Any]) -> dict[str, Any]:
        addresses = _addresses(body)
        spent = self.node.tangle.spent
        return {"states": [a in spent for a in addresses]}

    def check_consistency(self, body: dict[str, Any]) -> dict[str, Any]:
        tails = _hashes(body, "tails")
        self._require_synced()
        tangle = self.node.tangle
        found = tangle.store.trytes_of(tails)
        for tail in tails:
            if tail not in found:
                return {
                    "state": False,
                    "info": f"tails are not solid (missing a referenced tx): {tail}",
                }
            # Index 0 lives at trytes 2331..2340; a tail has all nines there.
            if found[tail][2331:2340] != "9" * 9:
                raise _invalid(f"Invalid transaction, not a tail: {tail}")
        # Only valid, non-conflicting bundles are ever stored, so known tails are consistent.
        return {"state": True, "info": ""}

    def get_tips(self, _body: dict[str, Any]) -> dict[str, Any]:
        return {"hashes": self.node.tangle.current_tips()}
