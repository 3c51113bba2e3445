"""shared/faults.py: FAULT_PAUSE's format, pauses that only sleep, and the ledger's commit
delivery, parallel with or without a pause configured."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from pathlib import Path
from typing import Any, cast

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.ledger import crypto
from services.ledger.consensus import Consensus
from services.ledger.crypto import encode_public_key, seed_of
from services.ledger.peers import PeerClient
from services.ledger.settings import LedgerSettings
from services.ledger.statements import Identity, commit_statement
from services.ledger.store import Store
from shared import faults
from shared.service_main import _check_faults
from shared.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_the_format() -> None:
    assert faults.parse("") == {}
    assert faults.parse("ledger.after_prepare:60") == {("ledger.after_prepare", None): 60.0}
    assert faults.parse(" ledger.before_commit_to/c:0.5 , grid.after_record:120,") == {
        ("ledger.before_commit_to", "c"): 0.5,
        ("grid.after_record", None): 120.0,
    }


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("ledger.nowhere:1", "'ledger.nowhere:1': unknown point (one of ledger.after_prepare"),
        ("after_prepare:1", "unknown point"),
        ("ledger.after_prepare", "use <point>[/<target>]:<seconds>"),
        ("ledger.after_prepare:soon", "seconds must be a number"),
        ("ledger.after_prepare:0", "seconds must be above 0 and at most 3600"),
        ("ledger.after_prepare:-1", "above 0"),
        ("ledger.after_prepare:nan", "above 0"),
        ("ledger.after_prepare:inf", "above 0"),
        ("ledger.after_prepare:3601", "at most 3600"),
        ("ledger.before_commit_to/a b:1", "use <point>"),
        ("ledger.after_prepare:1,ledger.after_prepare:2", "given twice"),
    ],
)
def test_mistakes_say_what_is_wrong(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        faults.parse(text)


def test_seconds_read_the_environment_at_each_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(faults.ENV, raising=False)
    assert faults.seconds("ledger.after_prepare") == 0
    monkeypatch.setenv(faults.ENV, "ledger.after_prepare:7")
    assert faults.seconds("ledger.after_prepare") == 7
    assert faults.seconds("ledger.before_apply") == 0
    # a target narrows; a point without one applies to every target
    monkeypatch.setenv(faults.ENV, "ledger.before_commit_to/c:3")
    assert faults.seconds("ledger.before_commit_to", "c") == 3
    assert faults.seconds("ledger.before_commit_to", "b") == 0
    monkeypatch.setenv(faults.ENV, "ledger.before_commit_to:2,ledger.before_commit_to/c:3")
    assert faults.seconds("ledger.before_commit_to", "b") == 2
    assert faults.seconds("ledger.before_commit_to", "c") == 3


def test_an_unknown_point_in_code_fails_even_unconfigured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(faults.ENV, raising=False)
    with pytest.raises(ValueError, match=re.escape("unknown fault point 'ledger.typo'")):
        faults.pause("ledger.typo")


def test_pause_sleeps_and_says_so_only_when_configured(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="shared.faults")
    monkeypatch.delenv(faults.ENV, raising=False)
    started = time.monotonic()
    faults.pause("grid.after_record", no="R1")
    assert time.monotonic() - started < 0.05 and not caplog.records

    monkeypatch.setenv(faults.ENV, "grid.after_record:0.2")
    started = time.monotonic()
    faults.pause("grid.after_record", no="R1")
    assert time.monotonic() - started >= 0.2
    assert caplog.messages == ["event=fault_pause point=grid.after_record no=R1 seconds=0.2"]


def test_pause_async_does_not_block_the_loop(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="shared.faults")
    monkeypatch.setenv(faults.ENV, "ledger.before_commit_to/c:0.2")
    ticks: list[float] = []

    async def ticker() -> None:
        for _ in range(3):
            ticks.append(time.monotonic())
            await asyncio.sleep(0.02)

    async def both() -> float:
        started = time.monotonic()
        await asyncio.gather(faults.pause_async("ledger.before_commit_to", "c"), ticker())
        return time.monotonic() - started

    assert asyncio.run(both()) >= 0.2
    assert len(ticks) == 3 and ticks[-1] - ticks[0] < 0.15  # the loop ran during the pause
    assert caplog.messages == [
        "event=fault_pause point=ledger.before_commit_to target=c seconds=0.2"
    ]


def test_a_service_with_a_bad_fault_pause_exits_2_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(faults.ENV, "ledger.after_prepar:60")
    with pytest.raises(SettingsError) as info:
        _check_faults()
    assert info.value.code == 2
    assert "FAULT_PAUSE: 'ledger.after_prepar:60': unknown point" in str(info.value)
    assert "FAULT_PAUSE" in capsys.readouterr().err
    monkeypatch.setenv(faults.ENV, "ledger.after_prepare:60")
    _check_faults()


def test_every_point_is_used_and_documented() -> None:
    used: set[str] = set()
    for path in [*ROOT.joinpath("services").rglob("*.py"), *ROOT.joinpath("shared").rglob("*.py")]:
        for point in re.findall(r"faults\.pause(?:_async)?\(\s*\"([^\"]+)\"", path.read_text()):
            assert point in faults.POINTS, f"{path}: {point}"
            used.add(point)
    assert used == set(faults.POINTS)
    testing = ROOT.joinpath("docs", "testing.md").read_text()
    section = testing.split("## Fault injection", 1)[1].split("\n## ", 1)[0]
    documented = re.findall(r"^\| `([a-z_.]+)` \|", section, flags=re.MULTILINE)
    assert documented == list(faults.POINTS)


# -- the ledger: delivery is parallel whether or not a pause is configured -------------------


KEYS = {name: Ed25519PrivateKey.generate() for name in "abc"}
ROOT_HASH = "ab" * 32


class Peers:
    """Peers b and c: each answers a commit with its signed receipt, noting when it was
    called."""

    def __init__(self) -> None:
        self.called: dict[str, float] = {}

    async def call(
        self, participant: str, path: str, payload: dict[str, Any], timeout: float
    ) -> dict[str, Any]:
        assert path == "/participant/commit" and timeout > 0
        self.called[participant] = time.monotonic()
        receipt = commit_statement(payload["round"], ROOT_HASH)
        return {"receipt": crypto.sign(KEYS[participant], receipt)}


def consensus(monkeypatch: pytest.MonkeyPatch) -> tuple[Consensus, Peers]:
    participants = [
        {"name": n, "url": f"http://{n}:8100", "public_key": encode_public_key(k.public_key())}
        for n, k in KEYS.items()
    ]
    monkeypatch.setenv("LEDGER_PARTICIPANT", "a")
    monkeypatch.setenv("LEDGER_PARTICIPANTS", json.dumps(participants))
    monkeypatch.setenv("LEDGER_PRIVATE_KEY", seed_of(KEYS["a"]))
    identity = Identity("a", KEYS["a"], {n: k.public_key() for n, k in KEYS.items()})
    peers = Peers()
    store = cast(Store, None)  # deliver_commit does not touch the store
    return Consensus(load_settings(LedgerSettings), store, identity, cast(PeerClient, peers)), peers


@pytest.mark.parametrize("fault", [None, "ledger.before_commit_to/c:1"])
def test_commits_are_delivered_in_parallel_with_or_without_a_pause(
    monkeypatch: pytest.MonkeyPatch, fault: str | None
) -> None:
    if fault is None:
        monkeypatch.delenv(faults.ENV, raising=False)
    else:
        monkeypatch.setenv(faults.ENV, fault)
    actor, peers = consensus(monkeypatch)
    receipts = {"a": "own"}
    started = time.monotonic()
    missing = asyncio.run(
        actor.deliver_commit("R1", {}, ROOT_HASH, receipts, deadline=time.time() + 5)
    )
    assert missing == [] and sorted(receipts) == ["a", "b", "c"]  # receipts that verify
    # b is never held behind c's pause; c alone waits, and only when the pause names it
    assert peers.called["b"] - started < 0.5
    assert (peers.called["c"] - started >= 1) is (fault is not None)
