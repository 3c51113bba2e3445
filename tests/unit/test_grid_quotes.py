"""The grid prices a slice when the quotes of the producers registered for it are in, or
when QUOTE_GRACE_SECONDS have passed (then the slice's record and the log name the
missing quotes); a slice that ended while the grid was down gets the grace window from
the grid's start. Real SQLite books, no node (nothing is billed here)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.grid.bookkeeping import GridBooks
from services.grid.settings import GridSettings
from services.grid.settlement import GridSettlement
from shared.db import make_engine, make_sessionmaker, sqlite_url
from shared.energy.channels import ChannelBook
from shared.energy.messages import ProducerOutput
from shared.energy.models import EnergyBase, ReaderPosition, Registration
from shared.energy.slices import Slice
from shared.mam.tangle import NodeApi

SLICE_S = 10
DELAY_MS = 1_000
GRACE_MS = 5_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Grid:
    def __init__(self, tmp_path: Path, **settings: Any) -> None:
        self.settings = GridSettings.model_validate(
            {
                "seed": "A" * 81,
                "data_dir": tmp_path,
                "slice_seconds": SLICE_S,
                "settle_delay_seconds": DELAY_MS / 1000,
                "quote_grace_seconds": GRACE_MS / 1000,
                **settings,
            }
        )
        engine = make_engine(sqlite_url(tmp_path, "grid"))
        EnergyBase.metadata.create_all(engine)
        self.sessions = make_sessionmaker(engine)
        self.books = GridBooks(
            self.sessions,
            slice_seconds=SLICE_S,
            fee_percent=20,
            pricing=self.settings.pricing,
            default_price=10,
        )
        self.book = ChannelBook(NodeApi("http://127.0.0.1:9"), self.sessions)
        # due_slices needs only the settings and the books
        self.settlement = GridSettlement(self.settings, self.books, None, self.book, None, None)  # type: ignore[arg-type]
        self.settlement.started_ms = 0

    def producer(self, producer_id: str, *, closed: bool = False) -> None:
        with self.sessions.begin() as session:
            session.add(
                Registration(
                    registration_id=producer_id,
                    item_name=producer_id,
                    item_type="producer",
                    root="R" * 81,
                    created_at=EPOCH,
                )
            )
            session.add(
                ReaderPosition(
                    registration_id=producer_id,
                    root="R" * 81,
                    next_root="N" * 81,
                    closed=closed,
                )
            )

    def quote(self, producer_id: str, slot: Slice, output: float, price: int) -> None:
        with self.sessions.begin() as session:
            self.books.handle_message(
                session, producer_id, ProducerOutput(slot.start, slot.end, output, price, "P" * 81)
            )

    def settle(self, slot: Slice) -> Any:
        return self.books.settle(slot, {}, self.book)


S1, S2, S3 = Slice(0, 10_000), Slice(10_000, 20_000), Slice(20_000, 30_000)


def test_a_slice_waits_for_every_registered_producers_quote(tmp_path: Path) -> None:
    grid = Grid(tmp_path)
    grid.producer("WIND")
    grid.producer("SOLAR")
    grid.producer("RETIRED", closed=True)  # said goodbye: not waited for
    due = grid.settlement.due_slices
    assert due(S1.end + DELAY_MS + 1) == []  # no quote yet (the grid's default would price it)
    grid.quote("WIND", S1, 3.0, 100)
    assert due(S1.end + DELAY_MS + 1) == []  # SOLAR's is still on its way
    grid.quote("SOLAR", S1, 1.0, 200)
    assert due(S1.end + DELAY_MS + 1) == [S1]  # all in: priced at once, no grace waited
    settled = grid.settle(S1)
    assert (settled.price, settled.method, settled.missing_quotes) == (125.0, "weighted", ())
    assert grid.books.slice_prices()[-1]["missingQuotes"] == []


def test_after_the_grace_window_the_slice_is_priced_naming_the_missing_quotes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    grid = Grid(tmp_path, pricing="merit", quote_grace_seconds=15)
    grace = 15_000
    grid.settle(Slice(-10_000, 0))  # the grid was settling before: S1 is not its first
    grid.producer("WIND")
    grid.producer("SOLAR")
    grid.quote("WIND", S1, 3.0, 100)
    due = grid.settlement.due_slices
    assert due(S1.end + grace - 1) == []
    # S2 is complete, but slices settle in order: S1 holds it back
    grid.quote("WIND", S2, 3.0, 100)
    grid.quote("SOLAR", S2, 1.0, 80)
    assert due(S2.end + DELAY_MS + 1) == []
    assert due(S1.end + grace) == [S1, S2]  # S2's quotes are in: it follows at once
    with caplog.at_level(logging.INFO, logger="services.grid.bookkeeping"):
        settled = grid.settle(S1)
    assert (settled.price, settled.method, settled.missing_quotes) == (100.0, "merit", ("SOLAR",))
    assert "event=quotes_missing start=0 producers=SOLAR" in caplog.text
    assert grid.settle(S2).missing_quotes == ()
    prices = grid.books.slice_prices()
    assert [(p["startTime"], p["missingQuotes"]) for p in prices[1:]] == [
        (0, ["SOLAR"]),
        (10_000, []),
    ]
    # no quote at all after the grace window: the last clearing price, the quote named
    assert due(S3.end + DELAY_MS + 1) == []
    assert due(S3.end + grace) == [S3]
    settled = grid.settle(S3)
    assert (settled.method, settled.missing_quotes) == ("last", ("SOLAR", "WIND"))


def test_a_slice_that_ended_while_the_grid_was_down_gets_the_grace_from_the_start(
    tmp_path: Path,
) -> None:
    grid = Grid(tmp_path)
    grid.producer("WIND")
    grid.quote("WIND", S1, 1.0, 100)
    grid.settle(S1)  # settled before the crash
    started = S3.end + 60_000  # down for a minute: S2 and S3 ended long ago
    grid.settlement.started_ms = started
    due = grid.settlement.due_slices
    assert due(started + 1) == []  # no jump to a fallback price because time passed
    grid.quote("WIND", S2, 1.0, 100)
    assert due(started + 1) == [S2]  # read after the restart: priced by the quote
    # S3's quote (and those of the slices after it) never came: grace from the start
    late = due(started + GRACE_MS)
    assert late[:2] == [S2, S3] and late[-1] == Slice(80_000, 90_000)


def test_a_producer_registered_after_a_slice_ended_is_not_waited_for(tmp_path: Path) -> None:
    grid = Grid(tmp_path)
    grid.producer("WIND")
    with grid.sessions.begin() as session:
        row = session.get(Registration, "WIND")
        assert row is not None
        row.created_at = datetime.fromtimestamp(S2.start / 1000 + 1, UTC)
    assert grid.settlement.due_slices(S1.end + DELAY_MS + 1) == [S1]
    assert grid.books.missing_quotes(S2) == ["WIND"]


def test_the_default_grace_is_two_slices_and_at_least_30_s(tmp_path: Path) -> None:
    def grace(**values: Any) -> int:
        return GridSettings.model_validate({"seed": "A" * 81, **values}).quote_grace_ms()

    assert grace() == 60_000
    assert grace(slice_seconds=4) == 30_000
    assert grace(slice_seconds=300) == 600_000
    assert grace(slice_seconds=4, quote_grace_seconds=2.5) == 2_500
