"""Typed settings read from the environment, failing loudly at start.

Every service declares a ``pydantic_settings.BaseSettings`` subclass and calls
:func:`load_settings` from its ``__main__``. A wrong or missing value stops the
process with one line per problem that names the environment variable, never
a traceback and never the offending value when the field is a secret.

Every variable can also be given as a file, the ``*_FILE`` convention of the official
container images and of Docker secrets: ``SEED_FILE=/run/secrets/robot1_seed`` reads
SEED from that file (one trailing newline is dropped). A non-empty ``SEED`` in the
environment wins over ``SEED_FILE``. What a file holds is never echoed in an error.
"""

from __future__ import annotations

import os
import string
import sys
from pathlib import Path
from typing import Annotated, Any, TypeVar, get_args

from pydantic import AfterValidator, BeforeValidator, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings

from shared.iota.trinary import is_trytes
from shared.logs import parse_log_level

__all__ = [
    "FILE_SUFFIX",
    "AdminPassword",
    "DatabaseUrl",
    "Ed25519Key",
    "LogLevel",
    "NodeSettings",
    "Seed",
    "SettingsError",
    "describe_errors",
    "load_settings",
    "values_from_files",
]

S = TypeVar("S", bound=BaseSettings)


def _check_seed(value: SecretStr) -> SecretStr:
    if not is_trytes(value.get_secret_value(), 81):
        raise ValueError("must be exactly 81 trytes (A-Z and 9)")
    return value


#: A wallet seed: 81 trytes (A-Z and 9), kept secret (never echoed in an error or a repr).
Seed = Annotated[SecretStr, AfterValidator(_check_seed)]


def _check_ed25519_key(value: SecretStr) -> SecretStr:
    raw = value.get_secret_value()
    if len(raw) != 64 or any(c not in string.hexdigits for c in raw):
        raise ValueError("must be 64 hex characters (an Ed25519 private key)")
    return value


#: An Ed25519 private key as 64 hex characters, kept secret like a seed.
Ed25519Key = Annotated[SecretStr, AfterValidator(_check_ed25519_key)]

#: LOG_LEVEL: DEBUG, INFO, WARNING (or WARN) or ERROR in any case, stored upper case.
LogLevel = Annotated[str, BeforeValidator(parse_log_level)]

FILE_SUFFIX = "_FILE"
# A secret or a URL; anything bigger is a wrong path (a log, a database), not a value.
MAX_FILE_BYTES = 64 * 1024


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


def _init_key(cls: type[BaseSettings], field: str) -> str:
    """The keyword ``cls(...)`` takes the field's value by (its alias, if it has one)."""
    info = cls.model_fields[field]
    if isinstance(info.validation_alias, str):
        return info.validation_alias
    return info.alias or field


def values_from_files(cls: type[BaseSettings]) -> dict[str, str]:
    """``{field: value}`` read from ``<VARIABLE>_FILE`` for every variable not set itself.

    Raises SettingsError naming the ``*_FILE`` variable when its file cannot be read.
    """
    environ = {key.upper(): value for key, value in os.environ.items()}
    names = {field: _env_name(cls, field) for field in cls.model_fields}
    taken = set(names.values())
    values: dict[str, str] = {}
    problems = []
    for field, name in names.items():
        file_variable = name + FILE_SUFFIX
        path = environ.get(file_variable)
        # A non-empty value wins; a field whose own name ends in _FILE is not a file's name.
        if not path or environ.get(name) or file_variable in taken:
            continue
        try:
            with Path(path).open("rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        except OSError as error:
            problems.append(f"{file_variable}: cannot read {path} ({error.strerror or error})")
            continue
        if len(data) > MAX_FILE_BYTES:
            problems.append(f"{file_variable}: {path} is larger than {MAX_FILE_BYTES} bytes")
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            problems.append(f"{file_variable}: {path} is not UTF-8 text")
            continue
        values[_init_key(cls, field)] = text.removesuffix("\n").removesuffix("\r")
    if problems:
        raise SettingsError("invalid settings:\n  " + "\n  ".join(problems))
    return values


def _holds_secret(annotation: Any) -> bool:
    """SecretStr, or a type made of it (``SecretStr | None``, ``Seed | None``)."""
    return annotation is SecretStr or any(_holds_secret(arg) for arg in get_args(annotation))


def describe_errors(
    cls: type[BaseSettings], error: ValidationError, from_files: frozenset[str] = frozenset()
) -> str:
    """Turn a pydantic ValidationError into 'VARIABLE: reason' lines.

    ``from_files`` names the fields (or aliases) whose value came from a ``*_FILE``: their
    lines name that variable and never show the value, whatever the field's type.
    """
    lines = []
    for item in error.errors():
        loc = item.get("loc") or ("?",)
        field = str(loc[0])
        name = _env_name(cls, field)
        info = cls.model_fields.get(field)
        secret = info is not None and _holds_secret(info.annotation)
        if field in from_files:
            name, secret = f"{name} (from {name}{FILE_SUFFIX})", True
        reason = item.get("msg", "invalid value")
        if not secret and "input" in item and item["type"] != "missing":
            shown = repr(item["input"])
            if len(shown) > 60:
                shown = shown[:57] + "..."
            reason = f"{reason} (got {shown})"
        lines.append(f"{name}: {reason}")
    return "invalid settings:\n  " + "\n  ".join(lines)


def load_settings(cls: type[S]) -> S:
    """Build ``cls`` from the environment (and ``*_FILE`` files) or exit(2) naming each bad
    variable."""
    from_files: dict[str, Any] = {}
    try:
        from_files.update(values_from_files(cls))
        return cls(**from_files)
    except SettingsError as error:
        print(error.message, file=sys.stderr)
        raise
    except ValidationError as error:
        message = describe_errors(cls, error, frozenset(from_files))
        print(message, file=sys.stderr)
        raise SettingsError(message) from None


# Well-known passwords that an admin account must not have.
PLACEHOLDER_PASSWORDS = frozenset(
    {"changeme", "change-me", "password", "admin", "secret", "12345678"}
)


def check_admin_password(value: SecretStr | None) -> SecretStr | None:
    """A settings validator: at least 8 characters and no placeholder (None: not set)."""
    if value is None:
        return None
    secret = value.get_secret_value()
    if len(secret) < 8 or secret.lower() in PLACEHOLDER_PASSWORDS:
        raise ValueError("use at least 8 characters and not a placeholder")
    return value


def check_database_url(value: SecretStr | None) -> SecretStr | None:
    """A settings validator: a SQLite or PostgreSQL URL (None or empty: the default file)."""
    if value is None or not value.get_secret_value():
        return None
    if not value.get_secret_value().startswith(("sqlite", "postgresql")):
        raise ValueError("use a sqlite:// or postgresql+psycopg:// URL")
    return value


#: An admin account's password (None: not set): see :func:`check_admin_password`.
AdminPassword = Annotated[SecretStr | None, AfterValidator(check_admin_password)]

#: DATABASE_URL and the like (None or empty: the service's default file), kept secret
#: because a PostgreSQL URL carries its password.
DatabaseUrl = Annotated[SecretStr | None, AfterValidator(check_database_url)]


class NodeSettings(BaseSettings):
    """HOST, SEED and the IOTA node: what every service with a wallet of its own reads (the
    grid, the energy services, the machines)."""

    host: str = Field("0.0.0.0", description="interface to listen on")
    seed: Seed = Field(description="81-tryte IOTA seed of the service's wallet")
    iota_node_url: str = Field("http://localhost:14265", pattern=r"^https?://")
    iota_node_timeout: float = Field(
        15.0, gt=0, le=600, description="seconds one IOTA node call may wait for an answer"
    )
    iota_zmq_url: str = Field("tcp://localhost:5556", pattern=r"^(tcp|ipc)://")
