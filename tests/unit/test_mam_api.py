"""MAM channel API contract: validation, the serialisable state, JSON <-> trytes."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.mam import (
    ChannelState,
    MamError,
    MamPayloadError,
    channel_root,
    create_channel,
    create_message,
    parse_message,
)
from shared.mam.codec import ascii_to_trytes, json_from_trytes, json_to_trytes, trytes_to_ascii

SEED = "MAMTEST9SEED" + "9" * 69


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("A" * 80,), "seed"),
        (("a" * 81,), "seed"),
        ((SEED, 4), "security"),
        ((SEED, 2, "secret"), "mode"),
        ((SEED, 2, "restricted"), "side key"),
        ((SEED, 2, "restricted", "abc"), "side key"),
        ((SEED, 2, "restricted", "A" * 82), "side key"),
        ((SEED, 2, "public", "KEY"), "side key"),
    ],
)
def test_create_channel_rejects_bad_arguments(args: tuple, fragment: str) -> None:
    with pytest.raises(MamError, match=fragment):
        create_channel(*args)


def test_new_channel_state_is_the_references() -> None:
    state = create_channel(SEED, 2, "restricted", "KEY")
    assert state.to_dict() == {
        "seed": SEED,
        "mode": "restricted",
        "side_key": "KEY" + "9" * 78,
        "security": 2,
        "start": 0,
        "count": 1,
        "next_count": 1,
        "index": 0,
        "next_root": None,
    }


def test_state_serialises_and_hides_secrets() -> None:
    state = create_channel(SEED, 1, "restricted", "SECRETKEY")
    message = create_message(state, "HELLO")
    data = json.loads(json.dumps(state.to_dict()))
    assert ChannelState.from_dict(data) == state
    assert (state.start, state.index, state.next_root) == (1, 0, message.next_root)
    camel = {
        "seed": SEED,
        "mode": "restricted",
        "sideKey": state.side_key,
        "security": 1,
        "start": 1,
        "count": 1,
        "nextCount": 1,
        "index": 0,
        "nextRoot": message.next_root,
    }
    assert ChannelState.from_dict(camel) == state
    assert SEED not in repr(state) and "SECRETKEY" not in repr(state)


def test_bad_message_leaves_state_untouched() -> None:
    state = create_channel(SEED, 1)
    before = state.to_dict()
    with pytest.raises(MamError, match="trytes"):
        create_message(state, "not trytes")
    assert state.to_dict() == before


def test_larger_trees_need_equal_powers_of_two() -> None:
    state = create_channel(SEED, 1, "private")
    state.count = state.next_count = 2
    root = channel_root(state)
    first = create_message(state, "ONE")
    second = create_message(state, "TWO")
    third = create_message(state, "THREE")
    assert first.root == second.root == root and third.root == first.next_root
    assert parse_message(second.payload, second.root).message == "TWO"
    state.count = 3
    state.next_count = 3
    with pytest.raises(MamError, match="powers of two"):
        create_message(state, "X")


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ("", MamPayloadError),
        ("abc", MamPayloadError),
        ("A" * 10, MamPayloadError),
        ("9" * 3000, MamError),
    ],
)
def test_parse_rejects_garbage_clearly(payload: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_message(payload, "A" * 81)


def test_parse_rejects_bad_root() -> None:
    with pytest.raises(MamError, match="root"):
        parse_message("A" * 100, "short")


def test_ascii_matches_iota_js() -> None:
    # iota.js documentation: asciiToTrytes('IOTA') === 'SBYBCCKB'
    assert ascii_to_trytes("IOTA") == "SBYBCCKB"
    assert trytes_to_ascii("SBYBCCKB") == "IOTA"
    assert json_to_trytes({"command": "hello"}) == ascii_to_trytes('{"command":"hello"}')
    with pytest.raises(ValueError):
        ascii_to_trytes("é")
    with pytest.raises(MamPayloadError):
        trytes_to_ascii("ABC")
    with pytest.raises(MamPayloadError, match="JSON"):
        json_from_trytes(ascii_to_trytes("{not json"))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(json_values)
def test_json_round_trips(value: object) -> None:
    trytes = json_to_trytes(value)
    assert json_from_trytes(trytes) == value
    # and through a MAM message is no different: trytes in, same trytes out
    assert json_from_trytes(trytes + "99") == value


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_ascii_round_trips(text: str) -> None:
    assert trytes_to_ascii(ascii_to_trytes(text)) == text
