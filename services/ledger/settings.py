"""Environment settings of a ledger participant (docs/ledger.md lists every variable).

Every participant runs the same service with its own name, key and database; the set of
participants (name, URL, public key) is the same on all of them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import NoDecode, SettingsConfigDict

from services.ledger.crypto import decode_public_key, private_key_from_seed
from shared.db import sqlite_url
from shared.ratelimit import RateLimitSettings
from shared.settings import LogLevel, check_admin_password, check_database_url

__all__ = ["LedgerSettings", "Participant"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class Participant(BaseModel):
    """One member of the consortium: its name, base URL and Ed25519 public key (base64),
    given inline or as ``public_key_file`` (a file holding it, read at start)."""

    name: str
    url: str
    public_key: str = ""
    public_key_file: str | None = None

    @model_validator(mode="after")
    def _key_from_file(self) -> Participant:
        if self.public_key_file is not None and not self.public_key:
            try:
                text = Path(self.public_key_file).read_text(encoding="ascii").strip()
            except (OSError, UnicodeDecodeError) as error:
                raise ValueError(
                    f"{self.name}: cannot read public_key_file {self.public_key_file} "
                    f"({type(error).__name__})"
                ) from None
            decode_public_key(text)
            self.public_key = text
        if not self.public_key:
            raise ValueError(f"{self.name}: give public_key or public_key_file")
        return self

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("a participant name is 1-64 letters, digits, '_', '.' or '-'")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("a participant URL starts with http:// or https://")
        return value.rstrip("/")

    @field_validator("public_key")
    @classmethod
    def _key(cls, value: str) -> str:
        if value:
            decode_public_key(value)
        return value.strip()


class LedgerSettings(RateLimitSettings):
    """A participant's configuration; a bad value stops the service at start."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    host: str = "0.0.0.0"
    port: int = Field(default=8100, ge=0, le=65535)
    data_dir: Path = Path("data/ledger")
    database_url: SecretStr | None = None
    log_level: LogLevel = "INFO"

    #: This participant's name (one of LEDGER_PARTICIPANTS).
    ledger_participant: str
    #: JSON list of {"name", "url", "public_key"}: every participant, this one included.
    ledger_participants: list[Participant]
    #: This participant's Ed25519 private key: base64 of the 32-byte seed
    #: (`python -m services.ledger keygen`), or else a PEM file made on the first start.
    ledger_private_key: SecretStr | None = None
    ledger_key_file: Path | None = None
    #: JSON {"user": "scrypt$..."} of BasicAuth users (hashes from `python -m services.ledger
    #: hash-password`); no user is built in.
    ledger_users: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    #: Optional one more user whose password comes from the environment (hashed at start).
    ledger_admin_username: str = Field(default="admin", pattern=r"^[A-Za-z0-9_.@-]{1,64}$")
    ledger_admin_password: SecretStr | None = None
    #: Lifetime of a websocket token from /maintenance/allocate_token/.
    ledger_token_ttl_seconds: int = Field(default=3600, ge=1, le=31_536_000)
    #: time_to_live of a request that gives none (the original's default), and the most allowed.
    ledger_default_ttl: float = Field(default=30.0, gt=0, le=3600)
    ledger_max_ttl: float = Field(default=300.0, gt=0, le=3600)
    #: Most transactions one consensus round commits (concurrent requests are batched).
    ledger_max_batch: int = Field(default=500, ge=1, le=10_000)
    #: Largest websocket message and HTTP body accepted.
    ledger_max_message_bytes: int = Field(default=1_048_576, ge=1024, le=64 * 1024 * 1024)
    #: How often undecided rounds are resolved with the peers (seconds).
    ledger_recovery_interval: float = Field(default=1.0, gt=0, le=600)
    #: How far a peer request's timestamp may be from our clock (seconds).
    ledger_clock_skew: float = Field(default=60.0, gt=0, le=3600)
    #: How long /maintenance/check_health/ waits for the pongs (seconds).
    ledger_ping_timeout: float = Field(default=3.0, gt=0, le=60)

    @field_validator("ledger_users", mode="before")
    @classmethod
    def _users_json(cls, value: object) -> object:
        if isinstance(value, str):
            import json

            try:
                return json.loads(value) if value.strip() else {}
            except ValueError:
                raise ValueError('use JSON: {"user": "scrypt$..."}') from None
        return value

    @field_validator("ledger_users")
    @classmethod
    def _users(cls, value: dict[str, str]) -> dict[str, str]:
        for user, hashed in value.items():
            if not re.match(r"^[A-Za-z0-9_.@-]{1,64}$", user):
                raise ValueError(f"user name {user!r}: 1-64 letters, digits, '_', '.', '@', '-'")
            if not hashed.startswith("scrypt$") or hashed.count("$") != 5:
                raise ValueError(
                    f"user {user}: give a scrypt hash (python -m services.ledger hash-password)"
                )
        return value

    @field_validator("ledger_private_key")
    @classmethod
    def _private_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            private_key_from_seed(value.get_secret_value())
        return value

    @field_validator("ledger_admin_password")
    @classmethod
    def _password(cls, value: SecretStr | None) -> SecretStr | None:
        return check_admin_password(value)

    @field_validator("database_url")
    @classmethod
    def _db(cls, value: SecretStr | None) -> SecretStr | None:
        return check_database_url(value)

    @field_validator("ledger_participants")
    @classmethod
    def _consortium(cls, value: list[Participant], info: ValidationInfo) -> list[Participant]:
        # A field error (not a model error): the message must never echo the other settings.
        names = [p.name for p in value]
        if len(names) < 2:
            raise ValueError("at least 2 participants")
        if len(set(names)) != len(names):
            raise ValueError("participant names must be unique")
        if len({p.public_key for p in value}) != len(names):
            raise ValueError("every participant needs its own key")
        me = info.data.get("ledger_participant")
        if me is not None and me not in names:
            raise ValueError(f"LEDGER_PARTICIPANT {me!r} is not one of them")
        return value

    @field_validator("ledger_max_ttl")
    @classmethod
    def _max_ttl(cls, value: float, info: ValidationInfo) -> float:
        default = info.data.get("ledger_default_ttl")
        if default is not None and default > value:
            raise ValueError("smaller than LEDGER_DEFAULT_TTL")
        return value

    # -- derived -----------------------------------------------------------------------------
    @property
    def me(self) -> Participant:
        return next(p for p in self.ledger_participants if p.name == self.ledger_participant)

    @property
    def peers(self) -> list[Participant]:
        return [p for p in self.ledger_participants if p.name != self.ledger_participant]

    def key_path(self) -> Path:
        return self.ledger_key_file or self.data_dir / "ledger-key.pem"

    def database(self) -> str:
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return sqlite_url(self.data_dir, f"ledger-{self.ledger_participant}")
