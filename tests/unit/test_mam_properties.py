"""Property tests of MAM v0: round trips in every mode and security, tampering is caught."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.iota.trinary import TRYTE_ALPHABET, trits_to_trytes, trytes_to_trits
from shared.mam import (
    MamError,
    MamSignatureError,
    channel_root,
    create_channel,
    create_message,
    decode_address,
    parse_message,
)
from shared.mam.pascal import pascal_decode, pascal_encode

trytes = st.text(alphabet=TRYTE_ALPHABET, min_size=0, max_size=400)
seeds = st.text(alphabet=TRYTE_ALPHABET, min_size=81, max_size=81)
# a side key of nines is the same as no side key (both absorb zero trits)
side_keys = st.text(alphabet=TRYTE_ALPHABET, min_size=1, max_size=81).filter(lambda k: k.strip("9"))
modes = st.sampled_from(["public", "private", "restricted"])
levels = st.sampled_from([1, 2, 3])
_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(seed=seeds, security=levels, mode=modes, side_key=side_keys, first=trytes, second=trytes)
def test_any_message_round_trips(
    seed: str, security: int, mode: str, side_key: str, first: str, second: str
) -> None:
    key = side_key if mode == "restricted" else None
    state = create_channel(seed, security, mode, key)  # type: ignore[arg-type]
    root = channel_root(state)
    one = create_message(state, first)
    two = create_message(state, second)
    assert one.root == root and one.next_root == two.root
    assert one.address == decode_address(one.root, mode)  # type: ignore[arg-type]
    parsed = parse_message(one.payload, one.root, key)
    assert (parsed.message, parsed.next_root) == (first, two.root)
    parsed = parse_message(two.payload, two.root, key)
    assert (parsed.message, parsed.next_root) == (second, two.next_root)


@_SETTINGS
@given(
    seed=seeds,
    security=levels,
    mode=modes,
    message=trytes,
    data=st.data(),
)
def test_a_flipped_trit_is_detected(
    seed: str, security: int, mode: str, message: str, data: st.DataObject
) -> None:
    key = "SIDEKEY" if mode == "restricted" else None
    state = create_channel(seed, security, mode, key)  # type: ignore[arg-type]
    created = create_message(state, message)
    trits = trytes_to_trits(created.payload).copy()
    # up to 2 trailing trits pad the payload to whole trytes and carry nothing
    meaningful = trits.shape[0] - 2
    position = data.draw(st.integers(0, meaningful - 1), label="position")
    trits[position] = data.draw(st.sampled_from([t for t in (-1, 0, 1) if t != trits[position]]))
    with pytest.raises(MamError):
        parse_message(trits_to_trytes(trits), created.root, key)


@_SETTINGS
@given(seed=seeds, security=levels, right=side_keys, wrong=side_keys, message=trytes)
def test_a_wrong_side_key_is_detected(
    seed: str, security: int, right: str, wrong: str, message: str
) -> None:
    if right.ljust(81, "9") == wrong.ljust(81, "9"):
        wrong = ("A" if right[0] != "A" else "B") + right[1:]
    state = create_channel(seed, security, "restricted", right)
    created = create_message(state, message)
    with pytest.raises(MamSignatureError):
        parse_message(created.payload, created.root, wrong)
    with pytest.raises(MamSignatureError):
        parse_message(created.payload, created.root, None)
    assert parse_message(created.payload, created.root, right).message == message


@given(st.integers(min_value=0, max_value=3**30))
def test_pascal_round_trips(value: int) -> None:
    encoded = pascal_encode(value)
    junk = np.array([1, -1, 0, 1, 1, 1], dtype=np.int8)
    assert pascal_decode(np.concatenate([encoded, junk])) == (value, encoded.shape[0])


def test_pascal_known_codes() -> None:
    assert pascal_encode(0).tolist() == [1, 0, 0, -1]
    # 600 trits (a 200-tryte message): 3 trytes of value and 1 encoding tryte
    assert pascal_encode(600).shape[0] == 12
    with pytest.raises(ValueError):
        pascal_encode(-1)
