"""The devnet explorer's API (``/api/explorer/...``), read through the node's IRI API.

What any IRI node offers (findTransactions, getTrytes, getBalances, getInclusionStates,
wereAddressesSpentFrom) answers almost everything; the devnet's read-only
``/explorer`` routes add which milestone confirmed a transaction and what a milestone
confirmed (docs/devnet.md). MAM channels are read with shared.mam, following next roots.
Every answer is bounded (transactions listed, MAM messages followed).
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

import anyio
import httpx
from fastapi import APIRouter, HTTPException, Path, Query, Request

from shared.iota.text import TrytesDecodeError, trytes_to_text
from shared.iota.transaction import parse_transaction
from shared.iota.validation import InvalidAddress, validate_address
from shared.mam.errors import MamError, NodeApiError
from shared.mam.tangle import ChannelReader, NodeApi
from shared.web import error_responses

__all__ = ["router"]

# Every explorer route reads the devnet: 502 when it does not answer.
router = APIRouter(
    prefix="/api/explorer",
    tags=["explorer"],
    responses={502: {"description": "the devnet did not answer"}},
)
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "not on the devnet"}}
_REFUSED = error_responses({422: "not a valid address, query or channel (what is wrong)"})

MAX_TRANSACTIONS = 200
MAX_MAM_MESSAGES = 50
_HASH = r"^[A-Z9]{81}$"
_ADDRESS = r"^[A-Z9]{81}([A-Z9]{9})?$"
_NULL_HASH = "9" * 81


def _node(request: Request) -> NodeApi:
    url: str = request.app.state.settings.node_url
    return NodeApi(url, timeout=15)


async def _in_thread(request: Request, work: Any, *args: Any) -> Any:
    node = _node(request)
    try:
        return await anyio.to_thread.run_sync(work, node, *args)
    except NodeApiError as error:
        raise HTTPException(502, f"the devnet did not answer: {error}") from None
    finally:
        node.close()


async def _found(request: Request, work: Any, key: str, missing: str) -> dict[str, Any]:
    """``work(node, key)`` through :func:`_in_thread`; 404 with ``missing`` if it is None."""
    found = await _in_thread(request, work, key)
    if found is None:
        raise HTTPException(404, missing)
    return dict(found)


def _text(fragment: str) -> str | None:
    """The message text of a signatureMessageFragment, or None if it is not text."""
    trimmed = fragment.rstrip("9")
    if not trimmed:
        return None
    try:
        text = trytes_to_text(trimmed)
    except TrytesDecodeError:
        return None
    return text if text.isprintable() or "\n" in text else None


def _describe(trytes: str, hash_: str) -> dict[str, Any]:
    tx = parse_transaction(trytes, hash_)
    return {
        "hash": tx.hash,
        "address": tx.address,
        "value": tx.value,
        "tag": tx.tag,
        "obsoleteTag": tx.obsolete_tag,
        "timestamp": tx.timestamp,
        "attachmentTimestamp": tx.attachment_timestamp,
        "currentIndex": tx.current_index,
        "lastIndex": tx.last_index,
        "bundle": tx.bundle,
        "trunkTransaction": tx.trunk,
        "branchTransaction": tx.branch,
        "nonce": tx.nonce,
        "message": _text(tx.signature_message_fragment) if tx.value >= 0 else None,
    }


def _transactions(node: NodeApi, hashes: list[str]) -> list[dict[str, Any]]:
    hashes = hashes[:MAX_TRANSACTIONS]
    if not hashes:
        return []
    described = [
        _describe(trytes, hash_)
        for hash_, trytes in zip(hashes, node.get_trytes(hashes), strict=True)
        if trytes.strip("9")
    ]
    states = node.call("getInclusionStates", transactions=[t["hash"] for t in described])
    for item, confirmed in zip(described, states["states"], strict=True):
        item["confirmed"] = bool(confirmed)
    return described


def _address(node: NodeApi, address: str) -> dict[str, Any]:
    hashes = node.call("findTransactions", addresses=[address]).get("hashes", [])
    transactions = _transactions(node, hashes)
    balance = int(node.call("getBalances", addresses=[address], threshold=100)["balances"][0])
    spent = bool(node.call("wereAddressesSpentFrom", addresses=[address])["states"][0])
    # Pending: what unconfirmed transfers would add or take once a milestone confirms them.
    pending = sum(t["value"] for t in transactions if not t["confirmed"])
    transactions.sort(key=lambda t: t["attachmentTimestamp"] or t["timestamp"], reverse=True)
    return {
        "address": address,
        "confirmedBalance": balance,
        "pendingBalance": balance + pending,
        "spent": spent,
        "transactionCount": len(hashes),
        "transactions": transactions,
    }


def _bundle(node: NodeApi, bundle: str) -> dict[str, Any] | None:
    hashes = node.call("findTransactions", bundles=[bundle]).get("hashes", [])
    if not hashes:
        return None
    transactions = _transactions(node, hashes)
    # Reattachments share the bundle hash: group by the chain that starts at each tail.
    by_hash = {t["hash"]: t for t in transactions}
    attachments = []
    for tail in sorted(
        (t for t in transactions if t["currentIndex"] == 0),
        key=lambda t: t["attachmentTimestamp"],
    ):
        chain = [tail]
        while chain[-1]["currentIndex"] < chain[-1]["lastIndex"]:
            following = by_hash.get(chain[-1]["trunkTransaction"])
            if following is None:
                break
            chain.append(following)
        attachments.append({"tail": tail["hash"], "confirmed": tail["confirmed"], "chain": chain})
    first = (
        attachments[0]["chain"]
        if attachments
        else sorted(transactions, key=lambda t: t["currentIndex"])
    )
    inputs = [{"address": t["address"], "value": t["value"]} for t in first if t["value"] < 0]
    outputs = [{"address": t["address"], "value": t["value"]} for t in first if t["value"] > 0]
    message = "".join(t["message"] or "" for t in first if t["value"] >= 0) or None
    return {
        "bundle": bundle,
        "confirmed": any(a["confirmed"] for a in attachments),
        "value": sum(o["value"] for o in outputs),
        "inputs": inputs,
        "outputs": outputs,
        "message": message,
        "attachments": [
            {
                "tail": a["tail"],
                "confirmed": a["confirmed"],
                "hashes": [t["hash"] for t in a["chain"]],
            }
            for a in attachments
        ],
        "transactions": first,
    }


def _transaction(node: NodeApi, hash_: str) -> dict[str, Any] | None:
    found = _transactions(node, [hash_])
    return found[0] if found else None


def _kind_of(node: NodeApi, query: str) -> dict[str, Any]:
    if re.fullmatch(r"\d{1,10}", query):
        return {"kind": "milestone", "target": str(int(query))}
    if re.fullmatch(_ADDRESS, query):
        if len(query) == 81 and query != _NULL_HASH:
            if node.get_trytes([query])[0].strip("9"):
                return {"kind": "transaction", "target": query}
            if node.call("findTransactions", bundles=[query]).get("hashes"):
                return {"kind": "bundle", "target": query}
        try:
            return {"kind": "address", "target": validate_address(query)}
        except InvalidAddress as error:
            raise HTTPException(422, f"not a valid address: {error}") from None
    raise HTTPException(
        422,
        "search for an address (81 or 90 trytes A-Z and 9), a transaction or bundle hash "
        "(81 trytes) or a milestone index (a number)",
    )


@router.get("/search", responses=_REFUSED)
async def search(
    request: Request,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=90,
            pattern=r"^\s*([A-Za-z9]{81}|[A-Za-z9]{90}|[0-9]{1,10})\s*$",
            description="an address, a transaction or bundle hash, or a milestone index",
        ),
    ],
) -> dict[str, Any]:
    """What ``q`` is: an address, a transaction, a bundle or a milestone index."""
    result: dict[str, Any] = await _in_thread(request, _kind_of, q.strip().upper())
    return result


@router.get("/address/{address}", responses=_REFUSED)
async def address_view(
    request: Request, address: Annotated[str, Path(pattern=_ADDRESS)]
) -> dict[str, Any]:
    """Confirmed and pending balance, spent flag and transactions of an address."""
    try:
        plain = validate_address(address)
    except InvalidAddress as error:
        raise HTTPException(422, f"not a valid address: {error}") from None
    result: dict[str, Any] = await _in_thread(request, _address, plain)
    return result


@router.get("/transaction/{hash}", responses=_NOT_FOUND)
async def transaction_view(
    request: Request, hash: Annotated[str, Path(pattern=_HASH)]
) -> dict[str, Any]:
    """A transaction's fields, whether it is confirmed and by which milestone."""
    found = await _found(request, _transaction, hash, f"no transaction {hash} on the devnet")
    found["milestone"] = None
    if found["confirmed"]:
        meta = await _devnet_json(request, f"/explorer/transactions/{hash}")
        if isinstance(meta, dict):
            found["milestone"] = meta.get("milestone")
    return dict(found)


@router.get("/bundle/{hash}", responses=_NOT_FOUND)
async def bundle_view(
    request: Request, hash: Annotated[str, Path(pattern=_HASH)]
) -> dict[str, Any]:
    """A bundle's inputs, outputs, message text and attachments."""
    return await _found(request, _bundle, hash, f"no bundle {hash} on the devnet")


async def _devnet_json(request: Request, path: str) -> Any:
    client: httpx.AsyncClient = request.app.state.http
    base: str = request.app.state.settings.node_url.rstrip("/")
    try:
        reply = await client.get(base + path, timeout=15)
    except httpx.HTTPError as error:
        raise HTTPException(502, f"the devnet did not answer ({type(error).__name__})") from None
    if reply.status_code == 404:
        raise HTTPException(404, reply.json().get("detail", "not found"))
    if reply.status_code >= 400:
        raise HTTPException(502, f"the devnet answered {reply.status_code}")
    return reply.json()


@router.get("/milestone/{index}", responses=_NOT_FOUND)
async def milestone_view(
    request: Request, index: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> dict[str, Any]:
    """A milestone and the transactions it confirmed (the devnet's read-only route)."""
    result: dict[str, Any] = await _devnet_json(request, f"/explorer/milestones/{index}")
    return result


def _mam(node: NodeApi, root: str, mode: str, side_key: str | None, limit: int) -> dict[str, Any]:
    reader = ChannelReader(node, mode, side_key)  # type: ignore[arg-type]
    messages = []
    for fetched in reader.fetch_all(root, limit=limit):
        try:
            text = trytes_to_text(fetched.message)
        except TrytesDecodeError:
            text = None
        decoded: Any = None
        if text is not None:
            try:
                decoded = json.loads(text)
            except ValueError:
                decoded = None
        messages.append(
            {
                "root": fetched.root,
                "nextRoot": fetched.next_root,
                "trytes": fetched.message if text is None else None,
                "text": text,
                "json": decoded,
            }
        )
    next_root = messages[-1]["nextRoot"] if messages else root
    return {"root": root, "mode": mode, "messages": messages, "nextRoot": next_root}


@router.get("/mam", responses=_REFUSED)
async def mam_view(
    request: Request,
    root: Annotated[str, Query(pattern=_HASH)],
    mode: Literal["public", "private", "restricted"] = "public",
    side_key: Annotated[str | None, Query(alias="sideKey", pattern=r"^[A-Z9]{1,81}$")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_MAM_MESSAGES)] = 20,
) -> dict[str, Any]:
    """A MAM channel's messages from ``root`` on, decoded to JSON where they are JSON."""
    if mode == "restricted" and not side_key:
        raise HTTPException(422, "a restricted channel needs its sideKey")
    try:
        result: dict[str, Any] = await _in_thread(request, _mam, root, mode, side_key, limit)
    except MamError as error:
        raise HTTPException(422, f"cannot read the channel: {error}") from None
    return result
