"""The one logging set-up of every service: ``key=value`` lines on standard error.

Format (docs/architecture.md)::

    ts=2026-11-29T01:02:03.456Z level=INFO service=robot logger=robot event=order_paid id=...

Messages are written as ``event=name key=value ...``; the prefix fields are added here.
A message that does not start with ``key=`` (a library's free text) becomes ``msg="..."``,
and a line break inside a message is written as ``\\n``, so every record is one line that
:data:`LINE_PATTERN` matches (a traceback follows on indented lines).
``LOG_LEVEL`` is parsed once, case-insensitively, by :func:`parse_log_level`.
"""

from __future__ import annotations

import logging
import re
import sys
import time

__all__ = [
    "LINE_PATTERN",
    "LOG_LEVELS",
    "KeyValueFormatter",
    "configure_logging",
    "parse_log_level",
]

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# Libraries that are chatty at INFO; their warnings still show.
_NOISY = ("engineio", "socketio", "iota", "urllib3", "httpx", "httpcore", "uvicorn.access")

#: One log line as documented in docs/architecture.md (tests parse service output with it).
LINE_PATTERN = re.compile(
    r"^ts=(?P<ts>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z) "
    r"level=(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL) "
    r"service=(?P<service>[a-z0-9_-]+) "
    r"logger=(?P<logger>\S+) "
    r"(?P<message>[A-Za-z_][\w.]*=\S.*)$"
)

# A message is already key=value when its first word is ``key=``.
_KEY_FIRST = re.compile(r"[A-Za-z_][\w.]*=\S")


def parse_log_level(value: object) -> str:
    """``info``, ``Info`` or ``INFO`` -> ``INFO``; anything else raises ValueError."""
    text = str(value).strip().upper()
    if text == "WARN":
        text = "WARNING"
    if text not in LOG_LEVELS:
        raise ValueError(f"must be one of {', '.join(LOG_LEVELS)} (any case)")
    return text


class KeyValueFormatter(logging.Formatter):
    """``ts=... level=... service=... logger=... <message>``; tracebacks follow indented."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{stamp}.{int(record.msecs):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if _KEY_FIRST.match(message) is None:
            # A library's free-text line: keep it one field so the line still parses.
            message = "msg=" + _quote(message)
        else:
            message = message.replace("\r", "\\r").replace("\n", "\\n")
        line = (
            f"ts={self.formatTime(record)} level={record.levelname} service={self.service} "
            f"logger={record.name} {message}"
        )
        if record.exc_info:
            trace = self.formatException(record.exc_info)
            line += "\n" + "\n".join("  " + part for part in trace.splitlines())
        return line


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\r", "\\r").replace("\n", "\\n") + '"'


def configure_logging(level: str, service: str) -> None:
    """Install the key=value handler on the root logger (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter(service))
    root.addHandler(handler)
    root.setLevel(parse_log_level(level))
    # warnings.warn (a library's DeprecationWarning) goes through the same format.
    logging.captureWarnings(True)
    for name in _NOISY:
        logging.getLogger(name).setLevel(logging.WARNING)
    # uvicorn's own loggers propagate to ours (run with log_config=None).
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
