"""Typed settings read from the environment, failing loudly at start.

Every service declares a ``pydantic_settings.BaseSettings`` subclass and calls
:func:`load_settings` from its ``__main__``. A wrong or missing value stops the
process with one line per problem that names the environment variable, never
a traceback and never the offending value when the field is a secret.
"""

from __future__ import annotations

import sys
from typing import TypeVar

from pydantic import SecretStr, ValidationError
from pydantic_settings import BaseSettings

__all__ = ["SettingsError", "describe_errors", "load_settings"]

S = TypeVar("S", bound=BaseSettings)


class SettingsError(SystemExit):
    """Raised (as a SystemExit with status 2) when the environment is invalid."""

    def __init__(self, message: str) -> None:
        super().__init__(2)
        self.message = message

    def __str__(self) -> str:
        return self.message


def _env_name(cls: type[BaseSettings], field: str) -> str:
    prefix = str(cls.model_config.get("env_prefix") or "")
    info = cls.model_fields.get(field)
    if info is not None and isinstance(info.validation_alias, str):
        return info.validation_alias.upper()
    if info is not None and info.alias:
        return info.alias.upper()
    return f"{prefix}{field}".upper()


def describe_errors(cls: type[BaseSettings], error: ValidationError) -> str:
    """Turn a pydantic ValidationError into 'VARIABLE: reason' lines."""
    lines = []
    for item in error.errors():
        loc = item.get("loc") or ("?",)
        field = str(loc[0])
        name = _env_name(cls, field)
        info = cls.model_fields.get(field)
        secret = info is not None and info.annotation in (SecretStr, SecretStr | None)
        reason = item.get("msg", "invalid value")
        if not secret and "input" in item and item["type"] != "missing":
            shown = repr(item["input"])
            if len(shown) > 60:
                shown = shown[:57] + "..."
            reason = f"{reason} (got {shown})"
        lines.append(f"{name}: {reason}")
    return "invalid settings:\n  " + "\n  ".join(lines)


def load_settings(cls: type[S]) -> S:
    """Build ``cls`` from the environment or exit(2) with a message naming each bad variable."""
    try:
        return cls()
    except ValidationError as error:
        message = describe_errors(cls, error)
        print(message, file=sys.stderr)
        raise SettingsError(message) from None
