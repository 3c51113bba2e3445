"""Fault injection for tests: named pause points that change timing, never behaviour.

A test that must crash a process at an exact moment (a ledger participant that has signed
but not answered, a grid that has recorded but not marked "sent") starts it with

    FAULT_PAUSE=ledger.after_prepare:60
    FAULT_PAUSE=ledger.before_commit_to/c:60,grid.after_record:5

waits for the log line ``event=fault_pause point=<point> ...`` and kills it there. The value
is a comma-separated list of ``<point>[/<target>]:<seconds>``; a ``/target`` narrows a point
that names one of several parallel paths (``ledger.before_commit_to/c``: only the delivery
to peer ``c``), without one the pause applies to every target. The points are the keys of
:data:`POINTS`, the one list of them (docs/testing.md). Every service checks the variable
at start (``shared.service_main``): an unknown point or a bad number exits 2 naming it.

A pause only sleeps where the code would otherwise have gone straight on: the code around it
does the same thing with or without the variable (the ledger delivers its commits in parallel
either way), so what a test proves with a pause holds without one. Unset (production), a
pause is one environment lookup.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import re
import time
from collections.abc import Mapping
from functools import lru_cache

__all__ = ["ENV", "POINTS", "configured", "parse", "pause", "pause_async", "seconds"]

log = logging.getLogger(__name__)

ENV = "FAULT_PAUSE"

#: Every pause point: where it is and what a test kills or observes there.
POINTS: Mapping[str, str] = {
    "ledger.after_prepare": (
        "a participant has prepared (signed) a round, before it answers the actor"
    ),
    "ledger.after_decision": (
        "the actor has committed its decision (every signature stored), before telling a peer"
    ),
    "ledger.before_commit_to": (
        "the actor is about to send the certificate to one peer (target: its name); the "
        "other peers are sent theirs meanwhile"
    ),
    "ledger.before_apply": "a participant received the certificate, before it writes the round",
    "grid.after_record": (
        "the ledger committed an audit record, before the grid marks it sent (logs its no)"
    ),
}

_ITEM = re.compile(r"^(?P<point>[a-z_.]+)(?:/(?P<target>[A-Za-z0-9_.-]{1,64}))?:(?P<seconds>.+)$")
#: A pause longer than an hour is a typo, not a test.
MAX_SECONDS = 3600.0


def parse(text: str) -> dict[tuple[str, str | None], float]:
    """``"point[/target]:seconds,..."`` as {(point, target or None): seconds}; ValueError
    naming the item that is wrong."""
    pauses: dict[tuple[str, str | None], float] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        match = _ITEM.match(item)
        if match is None:
            raise ValueError(f"{item!r}: use <point>[/<target>]:<seconds>")
        point, target = match["point"], match["target"]
        if point not in POINTS:
            raise ValueError(f"{item!r}: unknown point (one of {', '.join(POINTS)})")
        try:
            value = float(match["seconds"])
        except ValueError:
            raise ValueError(f"{item!r}: seconds must be a number") from None
        if not (math.isfinite(value) and 0 < value <= MAX_SECONDS):
            raise ValueError(f"{item!r}: seconds must be above 0 and at most {MAX_SECONDS:g}")
        if (point, target) in pauses:
            raise ValueError(f"{item!r}: given twice")
        pauses[(point, target)] = value
    return pauses


@lru_cache(maxsize=8)
def _parsed(text: str) -> dict[tuple[str, str | None], float]:
    return parse(text)


def configured() -> dict[tuple[str, str | None], float]:
    """The pauses ``FAULT_PAUSE`` sets now (read at each call, so a test may set it in
    process); ValueError if it is malformed."""
    text = os.environ.get(ENV, "")
    return _parsed(text) if text.strip() else {}


def seconds(point: str, target: str | None = None) -> float:
    """How long to pause at ``point`` (for ``target``): 0 unless configured."""
    if point not in POINTS:
        # A call site's typo would silently never pause: fail in every test that reaches it.
        raise ValueError(f"unknown fault point {point!r}")
    pauses = configured()
    if not pauses:
        return 0.0
    if target is not None and (point, target) in pauses:
        return pauses[(point, target)]
    return pauses.get((point, None), 0.0)


def _announce(point: str, target: str | None, wait: float, detail: dict[str, object]) -> None:
    extra = "".join(f" {key}={value}" for key, value in detail.items())
    aimed = f" target={target}" if target is not None else ""
    log.warning("event=fault_pause point=%s%s%s seconds=%g", point, aimed, extra, wait)


def pause(point: str, target: str | None = None, **detail: object) -> None:
    """Sleep (blocking) if ``FAULT_PAUSE`` names ``point``; log it first, with ``detail``."""
    wait = seconds(point, target)
    if wait:
        _announce(point, target, wait, detail)
        time.sleep(wait)


async def pause_async(point: str, target: str | None = None, **detail: object) -> None:
    """:func:`pause` for a coroutine: sleeps without blocking the event loop."""
    wait = seconds(point, target)
    if wait:
        _announce(point, target, wait, detail)
        await asyncio.sleep(wait)
