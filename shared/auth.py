"""Authentication helpers of every service: scrypt password hashes (stdlib), bearer tokens,
and :func:`require_bearer`, the one place a route's ``Authorization: Bearer ...`` is parsed and
compared (in constant time) with a configured token.

One behaviour when no token is configured, for every guarded route (docs/security.md): the
route is off and answers 401 naming the setting, unless the service has an explicit "open"
switch (e.g. ``DEVNET_FAUCET_OPEN=true``) and it is on. A forgotten setting thus closes a
route instead of opening it.

No ``from __future__ import annotations`` here: :func:`require_bearer` builds its dependency
in a closure, and FastAPI must see the closure's ``Annotated`` objects, not strings it would
resolve in this module's namespace.
"""

import base64
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

__all__ = [
    "BearerRefused",
    "BearerToken",
    "hash_password",
    "new_token",
    "require_bearer",
    "token_digest",
    "verify_password",
]

# 16 MiB of memory per hash: slow for an attacker's GPU, ~50 ms for us at login.
_N, _R, _P = 2**14, 8, 1


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


#: Verified against when the user name is unknown, so timing does not reveal which names exist.
DUMMY_HASH = hash_password(secrets.token_hex(16))


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class BearerToken:
    """What a guarded route is configured with: the token (None = not set) and whether an
    unset token means open (only ever from an explicit setting, never a default of True)."""

    token: SecretStr | str | None
    open_when_unset: bool = False


class BearerRefused(HTTPException):
    """401 from :func:`require_bearer`; a service whose errors are not ``{"detail"}`` (the
    devnet's IRI-style ``{"error"}``) registers a handler for this class alone."""

    def __init__(self, detail: str) -> None:
        super().__init__(401, detail, headers={"WWW-Authenticate": "Bearer"})


def require_bearer(
    configured: Callable[..., BearerToken] | Callable[..., Awaitable[BearerToken]],
    *,
    setting: str,
    open_setting: str | None = None,
    description: str | None = None,
) -> Callable[..., Awaitable[None]]:
    """A dependency that lets a request through only with ``Authorization: Bearer <token>``.

    ``configured`` is itself a dependency (e.g. reading the service's settings) giving the
    route's :class:`BearerToken`; ``setting`` and ``open_setting`` name the environment
    variables in refusals, so an operator sees what to set. The scheme appears in OpenAPI as
    ``HTTPBearer``. Use as ``dependencies=[Depends(require_bearer(...))]``.
    """
    # auto_error=False: a missing or non-Bearer header is our 401 with our message, not
    # HTTPBearer's 403.
    scheme = HTTPBearer(auto_error=False, description=description or f"{setting}, when set")
    wanted = f"a valid 'Authorization: Bearer <{setting}>' needed"
    if open_setting is None:
        off = f"{setting} is not set, so this route is off"
    else:
        off = f"{setting} is not set, so this route is off (or set {open_setting}=true)"

    async def check(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(scheme)],
        config: Annotated[BearerToken, Depends(configured)],
    ) -> None:
        token = config.token
        if isinstance(token, SecretStr):
            token = token.get_secret_value()
        if not token:
            if config.open_when_unset:
                return
            raise BearerRefused(off)
        given = credentials.credentials if credentials is not None else ""
        # Bytes: a header that is not ASCII is a wrong token (401), not a TypeError (500).
        if not secrets.compare_digest(given.encode(), token.encode()):
            raise BearerRefused(wanted)

    return check
