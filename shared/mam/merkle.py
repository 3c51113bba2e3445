"""The Merkle tree over a run of consecutive leaves that a MAM v0 channel signs with.

Shaped exactly like mam.js's: leaves paired left to right, an unpaired node carried up
unchanged, siblings listed leaf-first. (With the channel state mam.js produces, every
tree has one leaf, so every message carries zero siblings.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from shared.iota.curl import HASH_LENGTH, curl_hash
from shared.mam.signing import leaf

__all__ = ["MerkleTree", "root_from_siblings"]

_ROUNDS = 27


@dataclass(eq=False, slots=True)
class _Node:
    address: npt.NDArray[np.int8]
    left: _Node | None = None
    right: _Node | None = None
    key: npt.NDArray[np.int8] | None = field(default=None, repr=False)
    size: int = 1


class MerkleTree:
    """The tree of ``count`` leaves from subseed index ``start``."""

    def __init__(self, seed_trits: npt.NDArray[np.int8], start: int, count: int, security: int):
        if start < 0 or count < 1:
            raise ValueError(f"a Merkle tree needs start >= 0 and count >= 1, got {start}, {count}")
        leaves = []
        for i in range(count):
            one = leaf(seed_trits, start + i, security)
            leaves.append(_Node(one.address, key=one.key))
        self._root = self._build(leaves)

    @property
    def root(self) -> npt.NDArray[np.int8]:
        return self._root.address

    @staticmethod
    def _build(nodes: list[_Node]) -> _Node:
        while True:
            parents = []
            for i in range(0, len(nodes), 2):
                left = nodes[i]
                right = nodes[i + 1] if i + 1 < len(nodes) else None
                if right is None:
                    parents.append(_Node(left.address, left, None, size=left.size))
                else:
                    address = curl_hash(np.concatenate([left.address, right.address]), _ROUNDS)
                    parents.append(_Node(address, left, right, size=left.size + right.size))
            if len(parents) == 1:
                return parents[0]
            nodes = parents

    def subtree(self, index: int) -> tuple[npt.NDArray[np.int8], list[npt.NDArray[np.int8]]]:
        """The private key of leaf ``index`` and its siblings, nearest the leaf first."""
        root = self._root
        if root.size == 1:
            assert root.left is not None and root.left.key is not None
            return root.left.key, []
        siblings: list[npt.NDArray[np.int8]] = []
        node: _Node | None = root
        key = None
        if index < root.size:
            while node is not None:
                left = node.left
                if left is None:
                    key = node.key
                    break
                size = left.size
                if index < size:
                    # mam.js lists the left child again when a carried node has no right
                    # one; kept so our payloads match theirs byte for byte.
                    sibling = node.right if node.right is not None else left
                    siblings.append(sibling.address)
                    node = left
                else:
                    siblings.append(left.address)
                    node = node.right
                    index -= size
        if key is None:
            raise ValueError(f"leaf index {index} is outside the tree")
        siblings.reverse()
        return key, siblings


def root_from_siblings(
    leaf_address: npt.NDArray[np.int8], siblings: npt.NDArray[np.int8], index: int
) -> npt.NDArray[np.int8]:
    """Hash a leaf up through its siblings (concatenated) to the root it implies."""
    node = leaf_address
    bit = 1
    for offset in range(0, siblings.shape[0], HASH_LENGTH):
        sibling = siblings[offset : offset + HASH_LENGTH]
        pair = (node, sibling) if bit & index == 0 else (sibling, node)
        node = curl_hash(np.concatenate(pair), _ROUNDS)
        bit <<= 1
    return node
