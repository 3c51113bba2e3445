"""Merkle trees as RFC 6962 (Certificate Transparency) defines them, with inclusion proofs.

    leaf hash = SHA-256(0x00 || data)          node hash = SHA-256(0x01 || left || right)
    MTH({})   = SHA-256()                       MTH(D[n]) = node(MTH(D[0:k]), MTH(D[k:n]))

with k the largest power of two smaller than n. :class:`MerkleTree` keeps every level of
the tree (an unpaired last node is carried up unchanged, which builds exactly the RFC
6962 tree), so appending costs O(log n) hashes and an inclusion proof O(log n) lookups.
:func:`verify_inclusion` is RFC 9162's verification algorithm (section 2.1.3.2) and
needs nothing but hashlib: anyone can check a proof offline.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "MerkleTree",
    "leaf_hash",
    "node_hash",
    "root_of",
    "verify_inclusion",
]

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class MerkleTree:
    """An append-only RFC 6962 tree over leaf hashes."""

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        for leaf in leaves:
            self.append(leaf)

    def __len__(self) -> int:
        return len(self._levels[0])

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def leaf(self, index: int) -> bytes:
        return self._levels[0][index]

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash (already ``leaf_hash(data)``) and update the right edge."""
        if len(leaf) != 32:
            raise ValueError("a leaf hash is 32 bytes")
        self._levels[0].append(leaf)
        index = len(self._levels[0]) - 1
        level = 0
        while len(self._levels[level]) > 1:
            nodes = self._levels[level]
            parent = index // 2
            left = nodes[2 * parent]
            value = node_hash(left, nodes[2 * parent + 1]) if 2 * parent + 1 < len(nodes) else left
            if level + 1 == len(self._levels):
                self._levels.append([])
            above = self._levels[level + 1]
            if parent < len(above):
                above[parent] = value
            else:
                above.append(value)
            index = parent
            level += 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        if not self._levels[0]:
            return EMPTY_ROOT
        top = self._levels[-1] if len(self._levels[-1]) == 1 else None
        if top is None:  # pragma: no cover - the right edge always reaches one node
            raise AssertionError("incomplete tree")
        return top[0]

    def frontier(self) -> list[tuple[int, bytes]]:
        """The perfect subtrees the tree is made of, largest first: (size, hash) pairs."""
        result = []
        n = self.size
        start = 0
        for height in range(len(self._levels) - 1, -1, -1):
            width = 1 << height
            if n - start >= width:
                result.append((width, self._levels[height][start >> height]))
                start += width
        return result

    def root_with(self, extra: Sequence[bytes]) -> bytes:
        """The root the tree would have after appending ``extra`` (the tree is unchanged)."""
        stack = self.frontier()
        for leaf in extra:
            stack.append((1, leaf))
            while len(stack) > 1 and stack[-1][0] == stack[-2][0]:
                _, right_hash = stack.pop()
                width, left_hash = stack.pop()
                stack.append((width * 2, node_hash(left_hash, right_hash)))
        if not stack:
            return EMPTY_ROOT
        value = stack[-1][1]
        for _, subtree in reversed(stack[:-1]):
            value = node_hash(subtree, value)
        return value

    def inclusion_proof(self, index: int) -> list[bytes]:
        """The audit path of leaf ``index`` (0-based) against the current root, bottom up."""
        if not 0 <= index < self.size:
            raise IndexError(f"leaf {index} is not in a tree of {self.size}")
        path = []
        for nodes in self._levels[:-1]:
            sibling = index ^ 1
            if sibling < len(nodes):
                path.append(nodes[sibling])
            index //= 2
        return path


def root_of(leaves: Sequence[bytes]) -> bytes:
    return MerkleTree(leaves).root()


def verify_inclusion(
    leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 2.1.3.2: does ``path`` prove leaf hash ``leaf`` at ``index`` in ``root``?"""
    if not 0 <= index < size:
        return False
    fn, sn = index, size - 1
    value = leaf
    for sibling in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            value = node_hash(sibling, value)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            value = node_hash(value, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and value == root
