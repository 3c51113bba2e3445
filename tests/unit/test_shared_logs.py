"""shared/logs.py: one key=value line per record in the documented format; LOG_LEVEL is
parsed case-insensitively by every service's settings and bad values are refused."""

from __future__ import annotations

import logging
import sys
import warnings
from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from services.dashboard.settings import DashboardSettings
from services.devnet.settings import DevnetSettings
from shared.logs import LINE_PATTERN, KeyValueFormatter, configure_logging, parse_log_level
from shared.machine.settings import MachineSettings

SEED = "A" * 81


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(False)


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("ts=")]


def test_configured_lines_match_the_documented_format(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("debug", "robot")
    log = logging.getLogger("robot.processor")
    log.info("event=order_paid order_id=%s value=%d", "abc", 100)
    log.debug("event=tick")
    log.warning("Started server process [%d]", 123)  # a library's free text
    log.error("event=broken detail=%s", "two\nlines")
    lines = _lines(capsys.readouterr().err)
    assert len(lines) == 4
    parsed = [LINE_PATTERN.match(line) for line in lines]
    assert all(parsed), lines
    first = parsed[0]
    assert first is not None
    assert first["level"] == "INFO"
    assert first["service"] == "robot"
    assert first["logger"] == "robot.processor"
    assert first["message"] == "event=order_paid order_id=abc value=100"
    assert [m["level"] for m in parsed if m] == ["INFO", "DEBUG", "WARNING", "ERROR"]
    assert parsed[2] is not None and parsed[2]["message"] == 'msg="Started server process [123]"'
    # a line break inside a value cannot forge a second record
    assert parsed[3] is not None and parsed[3]["message"] == "event=broken detail=two\\nlines"


def test_level_filters_and_reconfiguring_does_not_duplicate(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", "wind")
    configure_logging("warning", "wind")
    log = logging.getLogger("wind")
    log.info("event=hidden")
    log.warning("event=shown")
    lines = _lines(capsys.readouterr().err)
    assert len(lines) == 1 and lines[0].endswith("event=shown")


def test_traceback_follows_on_indented_lines() -> None:
    formatter = KeyValueFormatter("devnet")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "event=failed", (), sys.exc_info()
        )
    head, *rest = formatter.format(record).split("\n")
    assert LINE_PATTERN.match(head)
    assert rest and all(line.startswith("  ") for line in rest)
    assert "RuntimeError: boom" in rest[-1]


def test_formatter_quotes_free_text() -> None:
    formatter = KeyValueFormatter("lock")
    record = logging.LogRecord("lib", logging.INFO, __file__, 1, 'say "hi" \\ = x', (), None)
    line = formatter.format(record)
    match = LINE_PATTERN.match(line)
    assert match is not None
    assert match["message"] == 'msg="say \\"hi\\" \\\\ = x"'


@pytest.mark.parametrize(
    ("given", "level"),
    [
        ("info", "INFO"),
        ("Info", "INFO"),
        (" DEBUG ", "DEBUG"),
        ("warn", "WARNING"),
        ("error", "ERROR"),
    ],
)
def test_parse_log_level_is_case_insensitive(given: str, level: str) -> None:
    assert parse_log_level(given) == level


@pytest.mark.parametrize("bad", ["", "verbose", "10", "INFO,DEBUG", None])
def test_parse_log_level_refuses_other_values(bad: object) -> None:
    with pytest.raises(ValueError, match="DEBUG, INFO, WARNING, ERROR"):
        parse_log_level(bad)


def test_configure_logging_refuses_a_bad_level(restore_logging: None) -> None:
    with pytest.raises(ValueError):
        configure_logging("loud", "robot")


def test_warnings_are_logged_in_the_format(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", "solar")
    warnings.warn_explicit("old API", DeprecationWarning, "lib.py", 7)
    lines = _lines(capsys.readouterr().err)
    assert len(lines) == 1
    match = LINE_PATTERN.match(lines[0])
    assert match is not None and match["logger"] == "py.warnings"
    assert match["message"].startswith('msg="lib.py:7: DeprecationWarning: old API')


@pytest.mark.parametrize(
    ("cls", "variable", "env"),
    [
        (MachineSettings, "LOG_LEVEL", {"SEED": SEED}),
        (DashboardSettings, "LOG_LEVEL", {}),
        (DevnetSettings, "DEVNET_LOG_LEVEL", {}),
    ],
)
def test_every_settings_class_parses_log_level_the_same_way(
    monkeypatch: pytest.MonkeyPatch, cls: type, variable: str, env: dict[str, str]
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(variable, "info")
    assert cls().log_level == "INFO"
    monkeypatch.setenv(variable, "Warning")
    assert cls().log_level == "WARNING"
    monkeypatch.setenv(variable, "chatty")
    with pytest.raises(ValidationError) as caught:
        cls()
    assert [error["loc"] for error in caught.value.errors()] == [("log_level",)]
