"""MAM v0 against the vectors @iota/mam.js 1.6.3 produced: every root, address and payload."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from shared.mam import channel_root, create_channel, create_message, parse_message

_DATA = Path(__file__).parent / "data" / "mam-vectors.json"
_REFERENCE = (
    Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "mam-vectors.json"
)
# SHA-256 of shared/reference/mam-vectors.json (written by @iota/mam.js 1.6.3).
_REFERENCE_SHA256 = "9e37b4e7d743163b5e8ce740c3014c3737adfd4087973d12cd254adc1be3cb1d"


def _load() -> dict[str, Any]:
    if not _DATA.exists():
        pytest.fail(
            f"MAM reference vectors missing: copy ../shared/reference/mam-vectors.json to {_DATA}"
        )
    vectors: dict[str, Any] = json.loads(_DATA.read_text())
    return vectors


_VECTORS = _load() if _DATA.exists() else {"channels": []}
_CHANNELS = _VECTORS["channels"]
_IDS = [f"{c['mode']}-security{c['security']}" for c in _CHANNELS]


def test_vectors_present_and_complete() -> None:
    vectors = _load()
    assert vectors["generator"].startswith("@iota/mam.js")
    combos = {(c["mode"], c["security"]) for c in vectors["channels"]}
    assert combos == {(m, s) for m in ("public", "private", "restricted") for s in (1, 2, 3)}
    assert all(len(c["messages"]) == 3 for c in vectors["channels"])


def test_copy_is_the_reference() -> None:
    # The vectors are reference data committed beside this test, so the test runs everywhere
    # (CI has no ../shared/reference); the digest pins them to the reference file's bytes.
    assert hashlib.sha256(_DATA.read_bytes()).hexdigest() == _REFERENCE_SHA256
    if _REFERENCE.exists():  # beside a checkout of the reference: the same bytes
        assert _REFERENCE.read_bytes() == _DATA.read_bytes()


@pytest.mark.parametrize("vector", _CHANNELS, ids=_IDS)
def test_channel_reproduces_every_message(vector: dict[str, Any]) -> None:
    state = create_channel(vector["seed"], vector["security"], vector["mode"], vector["sideKey"])
    assert channel_root(state) == vector["initialRoot"]
    for number, expected in enumerate(vector["messages"]):
        message = create_message(state, expected["message"])
        assert message.root == expected["root"], f"message {number}"
        assert message.address == expected["address"], f"message {number}"
        assert message.next_root == expected["parsedNextRoot"], f"message {number}"
        assert message.payload == expected["payload"], f"message {number}"
        # the state advanced exactly onto the next message's root
        assert state.next_root == expected["parsedNextRoot"]
        assert channel_root(state) == expected["parsedNextRoot"]


@pytest.mark.parametrize("vector", _CHANNELS, ids=_IDS)
def test_channel_parses_every_reference_payload(vector: dict[str, Any]) -> None:
    for expected in vector["messages"]:
        parsed = parse_message(expected["payload"], expected["root"], vector["sideKey"])
        assert parsed.message == expected["parsedMessage"] == expected["message"]
        assert parsed.next_root == expected["parsedNextRoot"]
