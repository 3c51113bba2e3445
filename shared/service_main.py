"""The one body of every service's ``__main__``: settings, logging, then the app, served.

    run_service(GridSettings, "services.grid.app:create_app", name=lambda s: s.name)

The order matters and is the same for every service: the settings are read first (a bad
variable exits 2 naming it, before anything else is printed), then logging is configured,
and only then is the app's module imported (``"module:function"``, or a function that
imports it), so a library's import-time warning is logged in the documented format too
(tests/integration/test_log_format.py). uvicorn runs through :func:`shared.web.serve`.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast

from pydantic_settings import BaseSettings

from shared import faults
from shared.logs import configure_logging
from shared.settings import SettingsError, load_settings
from shared.web import serve

__all__ = ["machine_options", "run_service"]


class ServiceSettings(Protocol):
    """What every service's settings have besides its own (each declares them itself)."""

    @property
    def log_level(self) -> str: ...
    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...


S = TypeVar("S", bound=BaseSettings)


def run_service(
    settings_type: type[S],
    factory: str | Callable[[S], Any],
    *,
    name: str | Callable[[S], str],
    check: Callable[[S], None] | None = None,
    configured: Callable[[S], None] | None = None,
    options: Callable[[S], dict[str, Any]] | None = None,
) -> None:
    """Serve the app ``factory`` builds from ``settings_type`` read from the environment.

    ``name``: the ``service`` of every log line. ``check``: more validation of the settings
    before logging starts (exit 2 as a bad variable does). ``configured``: runs once logging
    is set up (a filter on its handlers). ``options``: further ``uvicorn.run`` arguments,
    asked after the app's module is imported (so they may come from it).
    """
    settings = load_settings(settings_type)
    _check_faults()
    served = cast(ServiceSettings, settings)
    if check is not None:
        check(settings)
    configure_logging(served.log_level, name if isinstance(name, str) else name(settings))
    if configured is not None:
        configured(settings)
    if isinstance(factory, str):
        module, _, function = factory.partition(":")
        build: Callable[[S], Any] = getattr(importlib.import_module(module), function)
    else:
        build = factory
    app = build(settings)
    extra = options(settings) if options is not None else {}
    serve(app, host=served.host, port=served.port, **extra)


def _check_faults() -> None:
    """FAULT_PAUSE (shared/faults.py) is read by every service, so every service checks it:
    a misspelt point would otherwise never pause and the test waiting for it would hang."""
    try:
        faults.configured()
    except ValueError as error:
        message = f"invalid settings:\n  {faults.ENV}: {error}"
        print(message, file=sys.stderr)
        raise SettingsError(message) from None


def machine_options(_settings: object) -> dict[str, Any]:
    """A machine's (shared.machine) uvicorn arguments: its page's Socket.IO runs on uvicorn's
    sans-I/O websockets, a message under the same limit as a request body."""
    from shared.machine.app import MAX_BODY_BYTES

    return {"ws": "websockets-sansio", "ws_max_size": MAX_BODY_BYTES}
