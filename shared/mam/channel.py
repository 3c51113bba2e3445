"""MAM v0 channels: create, write and read messages byte-compatibly with @iota/mam.js.

The payload of one message, in trits:

    pascal(index) pascal(len(message)) mask(next_root message) mask(nonce)
    mask(signature pascal(sibling count) siblings) [zero padding to whole trytes]

The masking sponge first absorbs the side key (81 nines outside restricted mode), the
root and the two pascal numbers. The nonce makes the sponge's rate sum to zero over its
first ``81 * security`` trits; that rate is what the leaf's private key signs.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from shared.iota.curl import HASH_LENGTH
from shared.iota.trinary import trits_to_trytes, trytes_to_trits
from shared.mam._kernels import hamming_nonce
from shared.mam.errors import MamError, MamPayloadError, MamSignatureError
from shared.mam.merkle import MerkleTree, root_from_siblings
from shared.mam.pascal import pascal_decode, pascal_encode
from shared.mam.signing import (
    FRAGMENT_LENGTH,
    checksum_security,
    digest_from_signature,
    leaf_from_digest,
    sign,
)
from shared.mam.sponge import mask, mask_hash, new_sponge, unmask

__all__ = [
    "MODES",
    "TREE_CACHE_SIZE",
    "ChannelState",
    "MamMessage",
    "Mode",
    "ParsedMessage",
    "channel_root",
    "create_channel",
    "create_message",
    "decode_address",
    "parse_message",
    "warm_trees",
]

Mode = Literal["public", "private", "restricted"]
MODES: tuple[Mode, ...] = ("public", "private", "restricted")
_HASH_RE = re.compile(r"[9A-Z]{81}")
_TRYTES_RE = re.compile(r"[9A-Z]*")
_NO_SIDE_KEY = "9" * 81
_NONCE_LENGTH = HASH_LENGTH // 3


def _check_mode_key(mode: str, side_key: str | None) -> None:
    if mode not in MODES:
        raise MamError(f"mode must be public, private or restricted, not {mode!r}")
    if mode == "restricted":
        if not side_key:
            raise MamError("restricted mode needs a side key")
        if not _TRYTES_RE.fullmatch(side_key):
            raise MamError("the side key must be trytes (9A-Z)")
        if len(side_key) > 81:
            raise MamError("the side key must be at most 81 trytes")
    elif side_key:
        raise MamError("a side key is only used in restricted mode")


@dataclass(slots=True)
class ChannelState:
    """Where a writer stands in its channel; ``create_message`` advances it in place.

    The fields and their meaning are mam.js's ``IMamChannelState`` (snake_case here);
    ``to_dict`` / ``from_dict`` give a plain JSON-able form and also read mam.js's
    camelCase. It holds the seed: store it like a secret. ``repr`` hides seed and key.
    """

    seed: str = field(repr=False)
    mode: Mode
    side_key: str | None = field(repr=False)
    security: int
    start: int = 0
    count: int = 1
    next_count: int = 1
    index: int = 0
    next_root: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "mode": self.mode,
            "side_key": self.side_key,
            "security": self.security,
            "start": self.start,
            "count": self.count,
            "next_count": self.next_count,
            "index": self.index,
            "next_root": self.next_root,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChannelState:
        def pick(snake: str, camel: str, default: Any = None) -> Any:
            return data.get(snake, data.get(camel, default))

        state = cls(
            seed=data["seed"],
            mode=data["mode"],
            side_key=pick("side_key", "sideKey"),
            security=int(data["security"]),
            start=int(data.get("start", 0)),
            count=int(data.get("count", 1)),
            next_count=int(pick("next_count", "nextCount", 1)),
            index=int(data.get("index", 0)),
            next_root=pick("next_root", "nextRoot"),
        )
        state.validate()
        return state

    def validate(self) -> None:
        """Raise MamError naming the first field that mam.js would not accept."""
        if not isinstance(self.seed, str) or not _HASH_RE.fullmatch(self.seed):
            raise MamError("the seed must be 81 trytes (9A-Z)")
        if self.security not in (1, 2, 3):
            raise MamError(f"security must be 1, 2 or 3, not {self.security}")
        _check_mode_key(self.mode, self.side_key)
        if self.mode == "restricted" and len(self.side_key or "") != 81:
            raise MamError("the side key of a channel state must be padded to 81 trytes")
        if self.start < 0 or self.count < 1 or self.next_count < 1:
            raise MamError("start must be >= 0, count and next_count >= 1")
        if not 0 <= self.index < self.count:
            raise MamError(f"index must be within 0..count-1, not {self.index}")
        if self.next_root is not None and not _HASH_RE.fullmatch(self.next_root):
            raise MamError("next_root must be 81 trytes")


@dataclass(frozen=True, slots=True)
class MamMessage:
    """A message ready to attach: its payload goes to ``address``; readers start at ``root``."""

    payload: str
    root: str
    address: str
    next_root: str


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    """A message read back: its trytes and the root of the message after it."""

    message: str
    next_root: str


def create_channel(
    seed: str, security: int = 2, mode: Mode = "public", side_key: str | None = None
) -> ChannelState:
    """A new channel at its first leaf; a restricted side key is padded with 9s to 81 trytes."""
    if not isinstance(seed, str) or not _HASH_RE.fullmatch(seed):
        raise MamError("the seed must be 81 trytes (9A-Z)")
    if security not in (1, 2, 3):
        raise MamError(f"security must be 1, 2 or 3, not {security}")
    _check_mode_key(mode, side_key)
    return ChannelState(
        seed=seed,
        mode=mode,
        side_key=(side_key or "").ljust(81, "9") if mode == "restricted" else None,
        security=security,
    )


def _tree(state: ChannelState, start: int, count: int) -> MerkleTree:
    return _cached_tree(state.seed, start, count, state.security)


# Every message needs the tree of its own leaves and of the next message's (for
# next_root); the latter is the former of the channel's next message. Deriving a leaf
# is two thirds of the cost of a message, so trees are kept (in this process only,
# like the seed they come from) for the next message and for warm_trees. A one-leaf
# security-2 tree holds a 13 KB key: 1024 of them are about 13 MB.
TREE_CACHE_SIZE = 1024


@functools.lru_cache(maxsize=TREE_CACHE_SIZE)
def _cached_tree(seed: str, start: int, count: int, security: int) -> MerkleTree:
    return MerkleTree(trytes_to_trits(seed), start, count, security)


def warm_trees(state: ChannelState) -> None:
    """Derive now the leaves the channel's next ``create_message`` will sign with (and
    the next root it announces), so that call does not have to: a writer that must
    publish many messages quickly (the grid's payment requests) warms them ahead."""
    state.validate()
    _tree(state, state.start, state.count)
    _tree(state, state.start + state.count, state.next_count)


def channel_root(state: ChannelState) -> str:
    """The root a reader needs to follow the channel from its next message."""
    state.validate()
    return trits_to_trytes(_tree(state, state.start, state.count).root)


def decode_address(root: str, mode: Mode) -> str:
    """The address a message with this root is attached to."""
    _check_root(root)
    if mode not in MODES:
        raise MamError(f"mode must be public, private or restricted, not {mode!r}")
    return root if mode == "public" else trits_to_trytes(mask_hash(trytes_to_trits(root)))


def _check_root(root: str) -> None:
    if not isinstance(root, str) or not _HASH_RE.fullmatch(root):
        raise MamError("a root must be 81 trytes (9A-Z)")


def create_message(state: ChannelState, message: str) -> MamMessage:
    """Sign and mask ``message`` (trytes) as the next message of the channel.

    Advances ``state`` the way mam.js does (the leaf used is then spent): persist the
    state before the message leaves the process.
    """
    state.validate()
    if not isinstance(message, str) or not _TRYTES_RE.fullmatch(message):
        raise MamError("the message must be trytes (9A-Z)")
    # mam.js moves start by next_count after a tree of count leaves, and cannot verify a
    # leaf carried up an odd tree; only equal powers of two keep leaves unique and the
    # next_root chain intact. (mam.js itself only ever uses count = next_count = 1.)
    if state.count != state.next_count or state.count & (state.count - 1):
        raise MamError("count and next_count must be equal powers of two")
    tree = _tree(state, state.start, state.count)
    next_root = _tree(state, state.start + state.count, state.next_count).root
    root = tree.root
    key, siblings = tree.subtree(state.index)

    message_trits = trytes_to_trits(message)
    header = np.concatenate([pascal_encode(state.index), pascal_encode(message_trits.shape[0])])

    sponge = new_sponge()
    sponge.absorb(trytes_to_trits(state.side_key or _NO_SIDE_KEY))
    sponge.absorb(root)
    sponge.absorb(header)
    masked_body = mask(np.concatenate([next_root, message_trits]), sponge)
    nonce = hamming_nonce(sponge.state, state.security)
    masked_nonce = mask(nonce, sponge)
    signature = sign(sponge.state[:HASH_LENGTH].copy(), key)
    sibling_trits = np.concatenate(siblings) if siblings else np.zeros(0, dtype=np.int8)
    masked_signature = mask(
        np.concatenate([signature, pascal_encode(len(siblings)), sibling_trits]), sponge
    )
    payload = np.concatenate([header, masked_body, masked_nonce, masked_signature])
    padding = -payload.shape[0] % 3
    if padding:
        payload = np.concatenate([payload, np.zeros(padding, dtype=np.int8)])

    root_trytes = trits_to_trytes(root)
    result = MamMessage(
        payload=trits_to_trytes(payload),
        root=root_trytes,
        address=decode_address(root_trytes, state.mode),
        next_root=trits_to_trytes(next_root),
    )
    if state.index == state.count - 1:
        state.start += state.next_count
        state.index = 0
    else:
        state.index += 1
    state.next_root = result.next_root
    return result


def _slice(trits: npt.NDArray[np.int8], start: int, length: int, what: str) -> npt.NDArray[np.int8]:
    if length < 0 or start + length > trits.shape[0]:
        raise MamPayloadError(f"corrupted payload: the {what} runs past its end")
    return trits[start : start + length]


def parse_message(payload: str, root: str, side_key: str | None = None) -> ParsedMessage:
    """Unmask and authenticate a payload against its root.

    Raises MamPayloadError when the payload cannot be decoded and MamSignatureError when
    it does not authenticate (wrong side key, wrong root or tampered payload).
    """
    _check_root(root)
    if not isinstance(payload, str) or not payload or not _TRYTES_RE.fullmatch(payload):
        raise MamPayloadError("the payload must be non-empty trytes (9A-Z)")
    if side_key is not None and (not _TRYTES_RE.fullmatch(side_key) or len(side_key) > 81):
        raise MamError("the side key must be at most 81 trytes (9A-Z)")
    trits = trytes_to_trits(payload)
    root_trits = trytes_to_trits(root)

    index, used = pascal_decode(trits)
    length, used_length = pascal_decode(trits[used:])
    if length % 3:
        raise MamPayloadError("corrupted payload: the message length is not whole trytes")
    body_start = used + used_length
    message_start = body_start + HASH_LENGTH
    message_end = message_start + length

    sponge = new_sponge()
    sponge.absorb(trytes_to_trits((side_key or "").ljust(81, "9")))
    sponge.absorb(root_trits)
    sponge.absorb(trits[:body_start])
    next_root = unmask(_slice(trits, body_start, HASH_LENGTH, "next root"), sponge)
    message = unmask(_slice(trits, message_start, length, "message"), sponge)
    unmask(_slice(trits, message_end, _NONCE_LENGTH, "nonce"), sponge)
    hmac = sponge.state[:HASH_LENGTH].copy()

    security = checksum_security(hmac)
    if security == 0:
        raise MamSignatureError(
            "the message does not authenticate (nonce check failed): "
            "wrong side key, wrong root or corrupted payload"
        )
    rest = unmask(trits[message_end + _NONCE_LENGTH :], sponge)
    try:
        signature = _slice(rest, 0, security * FRAGMENT_LENGTH, "signature")
        sibling_count, used_siblings = pascal_decode(rest[signature.shape[0] :])
        siblings = _slice(
            rest, signature.shape[0] + used_siblings, sibling_count * HASH_LENGTH, "siblings"
        )
    except MamPayloadError as error:
        # This part is masked: garbage here is what a wrong key or a tampered byte gives.
        raise MamSignatureError(
            f"the message does not authenticate ({error}): "
            "wrong side key, wrong root or corrupted payload"
        ) from None
    computed = leaf_from_digest(digest_from_signature(hmac, signature))
    if sibling_count:
        computed = root_from_siblings(computed, siblings, index)
    if not np.array_equal(computed, root_trits):
        raise MamSignatureError(
            "the signature does not match the root: wrong side key, wrong root or corrupted payload"
        )
    return ParsedMessage(message=trits_to_trytes(message), next_root=trits_to_trytes(next_root))
