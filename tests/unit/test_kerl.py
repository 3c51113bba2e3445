"""Kerl against PyOTA's pure-Python reference implementation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from iota.crypto.kerl import Kerl as ReferenceKerl

from shared.iota.kerl import Kerl, bytes_to_trits, kerl_hash, kerl_hash_chain, trits_to_bytes

trit_blocks = st.lists(st.sampled_from([-1, 0, 1]), min_size=243, max_size=243)


def reference_hash(trits: list[int], length: int = 243) -> list[int]:
    sponge = ReferenceKerl()
    sponge.absorb(list(trits))
    out = [0] * length
    sponge.squeeze(out)
    return out


@settings(max_examples=25, deadline=None)
@given(st.lists(trit_blocks, min_size=1, max_size=3))
def test_kerl_matches_pyota(blocks: list[list[int]]) -> None:
    trits = [t for block in blocks for t in block]
    ours = Kerl()
    ours.absorb(np.array(trits, dtype=np.int8))
    assert ours.squeeze(486).tolist() == reference_hash(trits, 486)


@settings(max_examples=25, deadline=None)
@given(trit_blocks)
def test_byte_conversion_round_trips(block: list[int]) -> None:
    block[-1] = 0  # Kerl ignores the last trit
    assert bytes_to_trits(trits_to_bytes(block)).tolist() == block


def test_extreme_values_round_trip() -> None:
    for value in (1, -1):
        block = [value] * 242 + [0]
        assert bytes_to_trits(trits_to_bytes(block)).tolist() == block


def test_hash_chain_is_repeated_hashing() -> None:
    block = np.array([(i % 3) - 1 for i in range(243)], dtype=np.int8)
    expected = block
    for _ in range(4):
        expected = kerl_hash(expected)
    assert kerl_hash_chain(block, 4).tolist() == expected.tolist()
    assert kerl_hash_chain(block, 0).tolist() == block.tolist()


def test_bad_lengths_are_refused() -> None:
    with pytest.raises(ValueError):
        Kerl().absorb(np.zeros(100, dtype=np.int8))
    with pytest.raises(ValueError):
        Kerl().squeeze(100)
    with pytest.raises(ValueError):
        bytes_to_trits(b"\x00" * 47)
