"""MAM channels over a legacy IOTA node (IRI 1.8 HTTP API): attach and fetch messages.

A message is attached as a bundle of zero-value transactions to its address, the
payload cut into 2187-tryte signatureMessageFragments (like mam.js with iota.js's
prepareTransfers and sendTrytes). A reader finds the transactions at the address,
groups them by bundle, joins the fragments by currentIndex and parses; a message that
does not parse (spam at the address, a wrong side key) is skipped.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

import httpx

from shared.iota.trinary import int_from_trits, trytes_to_trits
from shared.mam.channel import (
    ChannelState,
    MamMessage,
    Mode,
    create_message,
    decode_address,
    parse_message,
)
from shared.mam.codec import json_to_trytes
from shared.mam.errors import MamError, NodeApiError
from shared.mam.store import ChannelStore, Position

__all__ = [
    "ChannelReader",
    "ChannelWriter",
    "FetchedMessage",
    "NodeApi",
    "PublishedMessage",
    "fetch_many",
]

log = logging.getLogger(__name__)

_HEADERS = {"X-IOTA-API-Version": "1", "Content-Type": "application/json"}
_MAX_GET_TRYTES = 1000  # stay well under IRI's maxGetTrytes / maxRequestsList
_TAG_LENGTH = 27


class NodeApi:
    """A small synchronous client for the IRI commands MAM needs."""

    def __init__(self, url: str, *, timeout: float = 60.0, client: httpx.Client | None = None):
        self.url = url
        self._client = client or httpx.Client(timeout=timeout, headers=_HEADERS)
        self._owns_client = client is None

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> NodeApi:
        return self

    def __exit__(self, *_exc_info: object) -> None:
        self.close()

    def call(self, command: str, **params: Any) -> dict[str, Any]:
        """POST one command; NodeApiError carries the node's ``error``/``exception`` text."""
        try:
            response = self._client.post(
                self.url, json={"command": command, **params}, headers=_HEADERS
            )
        except httpx.HTTPError as error:
            raise NodeApiError(f"{command}: node unreachable at {self.url}: {error}") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict):
            detail = (
                (body.get("error") or body.get("exception")) if isinstance(body, dict) else None
            )
            raise NodeApiError(f"{command}: HTTP {response.status_code}: {detail or response.text}")
        return body

    def find_transactions(self, addresses: list[str]) -> list[str]:
        return list(self.call("findTransactions", addresses=addresses).get("hashes", []))

    def get_trytes(self, hashes: list[str]) -> list[str]:
        out: list[str] = []
        for first in range(0, len(hashes), _MAX_GET_TRYTES):
            chunk = hashes[first : first + _MAX_GET_TRYTES]
            out.extend(self.call("getTrytes", hashes=chunk)["trytes"])
        return out

    def send_trytes(self, trytes: list[str], depth: int, mwm: int) -> list[str]:
        """Tip selection, remote PoW, store and broadcast; the attached trytes, tail first."""
        tips = self.call("getTransactionsToApprove", depth=depth)
        attached = self.call(
            "attachToTangle",
            trunkTransaction=tips["trunkTransaction"],
            branchTransaction=tips["branchTransaction"],
            minWeightMagnitude=mwm,
            trytes=trytes,
        )["trytes"]
        self.call("storeTransactions", trytes=attached)
        self.call("broadcastTransactions", trytes=attached)
        return list(attached)


@dataclass(frozen=True, slots=True)
class _Fragment:
    bundle: str
    current_index: int
    last_index: int
    trunk: str
    fragment: str
    tag: str


def _fragment_of(trytes: str) -> _Fragment | None:
    # Offsets from the transaction layout (docs: PROTOCOLS.md section 1).
    if len(trytes) != 2673 or set(trytes) == {"9"}:
        return None
    return _Fragment(
        bundle=trytes[2349:2430],
        current_index=int_from_trits(trytes_to_trits(trytes[2331:2340])),
        last_index=int_from_trits(trytes_to_trits(trytes[2340:2349])),
        trunk=trytes[2430:2511],
        fragment=trytes[:2187],
        tag=trytes[2592:2619],
    )


def _bundles(fragments: dict[str, _Fragment]) -> list[list[_Fragment]]:
    """Whole bundles, each walked from its tail along trunk links, in the node's order.

    Two zero-value bundles to one address in the same second share a bundle hash
    (Kerl covers the essence, not the message), so the hash alone cannot group them.
    """
    out = []
    for tail in fragments.values():
        if tail.current_index != 0:
            continue
        chain = [tail]
        while chain[-1].current_index < tail.last_index:
            following = fragments.get(chain[-1].trunk)
            if (
                following is None
                or following.bundle != tail.bundle
                or following.current_index != chain[-1].current_index + 1
            ):
                break
            chain.append(following)
        if len(chain) == tail.last_index + 1:
            out.append(chain)
    return out


# Addresses or hashes per findTransactions/getTrytes call (IRI's maxRequestsList is 1000).
_REQUEST_CHUNK = 500


def fetch_many(
    node: NodeApi, wanted: list[tuple[ChannelReader, str]]
) -> list[FetchedMessage | None]:
    """The message at each ``(reader, root)`` (None where none authenticates yet), asking
    the node once for all of them: one findTransactions and one getTrytes per 500,
    where reading them one by one costs two or three calls per channel."""
    addresses = [decode_address(root, reader.mode) for reader, root in wanted]
    hashes: list[str] = []
    unique = sorted(set(addresses))
    for first in range(0, len(unique), _REQUEST_CHUNK):
        hashes += node.find_transactions(unique[first : first + _REQUEST_CHUNK])
    by_address: dict[str, dict[str, _Fragment]] = {}
    hashes = list(dict.fromkeys(hashes))
    for first in range(0, len(hashes), _REQUEST_CHUNK):
        chunk = hashes[first : first + _REQUEST_CHUNK]
        for hash_, trytes in zip(chunk, node.get_trytes(chunk), strict=True):
            fragment = _fragment_of(trytes)
            if fragment is not None:
                by_address.setdefault(trytes[2187:2268], {})[hash_] = fragment
    return [
        reader._message_in(root, by_address[address]) if address in by_address else None
        for (reader, root), address in zip(wanted, addresses, strict=True)
    ]


def _bundle_trytes(address: str, payload: str, tag: str) -> list[str]:
    # PyOTA is imported here only: its import is slow and warns about pkg_resources.
    from iota import Address, ProposedBundle, ProposedTransaction, Tag, TryteString

    bundle = ProposedBundle(
        [
            ProposedTransaction(
                address=Address(address),
                value=0,
                tag=Tag(tag),
                message=TryteString(payload),
            )
        ]
    )
    # finalize() computes the Kerl bundle hash and bumps the tag past the "M-bug".
    bundle.finalize()
    return [str(trytes) for trytes in bundle.as_tryte_strings()]


@dataclass(frozen=True, slots=True)
class PublishedMessage:
    """A message that is on the tangle: its MAM data and the hashes of its transactions."""

    message: MamMessage
    hashes: list[str]


@dataclass(frozen=True, slots=True)
class FetchedMessage:
    """One message read from the tangle."""

    root: str
    message: str
    next_root: str
    tag: str


class ChannelWriter:
    """Publishes the messages of one channel; with a store, its position survives restarts."""

    def __init__(
        self,
        node: NodeApi,
        state: ChannelState,
        *,
        store: ChannelStore | None = None,
        depth: int = 3,
        mwm: int = 9,
        tag: str = "",
    ) -> None:
        state.validate()
        if len(tag) > _TAG_LENGTH or not all(c in "9ABCDEFGHIJKLMNOPQRSTUVWXYZ" for c in tag):
            raise MamError("the tag must be at most 27 trytes (9A-Z)")
        self.node = node
        self.state = state
        self.store = store
        self.depth = depth
        self.mwm = mwm
        self.tag = tag.ljust(_TAG_LENGTH, "9")

    @classmethod
    def open(
        cls,
        node: NodeApi,
        store: ChannelStore,
        seed: str,
        *,
        security: int = 2,
        mode: Mode = "public",
        side_key: str | None = None,
        **options: Any,
    ) -> ChannelWriter:
        """A writer resumed from ``store`` (or at the channel's start)."""
        return cls(node, store.open(seed, security, mode, side_key), store=store, **options)

    def prepare(self, message: str) -> MamMessage:
        """Create the next message and commit the advanced position; nothing is attached.

        The state is only advanced once the store committed, so a failed create or a
        store conflict leaves it as it was.
        """
        trial = dataclasses.replace(self.state)
        created = create_message(trial, message)
        if self.store is not None:
            self.store.advance(Position.of(self.state), trial)
        self.state = trial
        return created

    def attach(self, message: MamMessage) -> list[str]:
        """Attach a prepared message (again, after a failure: reattaching is harmless)."""
        trytes = _bundle_trytes(message.address, message.payload, self.tag)
        attached = self.node.send_trytes(trytes, self.depth, self.mwm)
        hashes = _hashes_of(attached)
        log.info(
            "event=mam_attached address=%s root=%s transactions=%d",
            message.address,
            message.root,
            len(attached),
        )
        return hashes

    def publish(self, message: str) -> PublishedMessage:
        """Prepare and attach ``message`` (trytes). If attaching fails the NodeApiError
        carries the prepared message as ``error.mam_message`` for a later ``attach``."""
        prepared = self.prepare(message)
        try:
            hashes = self.attach(prepared)
        except NodeApiError as error:
            error.mam_message = prepared
            raise
        return PublishedMessage(prepared, hashes)

    def publish_json(self, value: Any) -> PublishedMessage:
        return self.publish(json_to_trytes(value))


def _hashes_of(trytes: list[str]) -> list[str]:
    from shared.iota.curl import curl_hash
    from shared.iota.trinary import trits_to_trytes

    return [trits_to_trytes(curl_hash(trytes_to_trits(t), 81)) for t in trytes]


class ChannelReader:
    """Reads a channel (public, private, or restricted with its side key) from a node."""

    def __init__(self, node: NodeApi, mode: Mode = "public", side_key: str | None = None):
        if mode == "restricted" and not side_key:
            raise MamError("restricted mode needs a side key")
        self.node = node
        self.mode = mode
        self.side_key = side_key if mode == "restricted" else None

    def fetch(self, root: str) -> FetchedMessage | None:
        """The message at ``root``, or None if none that authenticates is there (yet)."""
        return fetch_many(self.node, [(self, root)])[0]

    def _message_in(self, root: str, fragments: dict[str, _Fragment]) -> FetchedMessage | None:
        for chain in _bundles(fragments):
            payload = "".join(part.fragment for part in chain)
            try:
                parsed = parse_message(payload, root, self.side_key)
            except MamError as error:
                log.debug(
                    "event=mam_skipped bundle=%s reason=%s", chain[0].bundle, type(error).__name__
                )
                continue
            return FetchedMessage(root, parsed.message, parsed.next_root, chain[0].tag)
        return None

    def fetch_all(self, root: str, limit: int | None = None) -> list[FetchedMessage]:
        """Messages from ``root`` on, following next_root until one is missing."""
        messages: list[FetchedMessage] = []
        current: str | None = root
        while current is not None and (limit is None or len(messages) < limit):
            fetched = self.fetch(current)
            if fetched is None:
                break
            messages.append(fetched)
            current = fetched.next_root
        return messages
