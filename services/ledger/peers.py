"""Participant-to-participant calls, signed with the caller's Ed25519 key.

Every request to ``/participant/*`` carries three headers::

    X-Ledger-Participant: <name>
    X-Ledger-Timestamp:   <unix seconds>
    X-Ledger-Signature:   base64 Ed25519 over "<METHOD>\\n<path>\\n<timestamp>\\n<sha256(body) hex>"

The receiver checks the name is a participant, the timestamp is within the allowed clock
skew and the signature verifies with that participant's public key; anything else is a 401.
Nobody but a participant can propose, commit, abort or ask about a round.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import httpx

from services.ledger.crypto import b64, unb64
from services.ledger.settings import Participant
from services.ledger.statements import Identity

__all__ = ["PeerClient", "PeerError", "signed_headers", "verify_request"]

HEADER_NAME = "x-ledger-participant"
HEADER_TIME = "x-ledger-timestamp"
HEADER_SIG = "x-ledger-signature"


class PeerError(Exception):
    """A peer did not answer, or answered with a refusal (the text says which)."""

    def __init__(self, participant: str, message: str, *, refused: bool = False) -> None:
        super().__init__(f"{participant}: {message}")
        self.participant = participant
        self.refused = refused


def _message(method: str, path: str, stamp: str, body: bytes) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return f"{method.upper()}\n{path}\n{stamp}\n{digest}".encode()


def signed_headers(identity: Identity, method: str, path: str, body: bytes) -> dict[str, str]:
    stamp = f"{time.time():.3f}"
    signature = identity.key.sign(_message(method, path, stamp, body))
    return {
        "X-Ledger-Participant": identity.name,
        "X-Ledger-Timestamp": stamp,
        "X-Ledger-Signature": b64(signature),
        "Content-Type": "application/json",
    }


def verify_request(
    identity: Identity,
    method: str,
    path: str,
    headers: Any,
    body: bytes,
    skew: float,
) -> str:
    """The calling participant's name; ValueError saying what is wrong otherwise."""
    name = headers.get(HEADER_NAME, "")
    stamp = headers.get(HEADER_TIME, "")
    signature = headers.get(HEADER_SIG, "")
    key = identity.keys.get(name)
    if key is None:
        raise ValueError("not a participant")
    try:
        when = float(stamp)
    except ValueError:
        raise ValueError("bad timestamp") from None
    if abs(time.time() - when) > skew:
        raise ValueError("timestamp outside the allowed clock skew")
    try:
        key.verify(unb64(signature), _message(method, path, stamp, body))
    except Exception:
        raise ValueError("signature does not verify") from None
    return str(name)


class PeerClient:
    """One pooled HTTP client for all peers; every call signed, JSON in and out."""

    def __init__(self, identity: Identity, participants: list[Participant]) -> None:
        self.identity = identity
        self.urls = {p.name: p.url for p in participants}
        self.http = httpx.AsyncClient(
            # Idle connections are dropped before the peer's keep-alive timeout (uvicorn: 30 s
            # as run by __main__) so a request rarely meets one the peer is closing.
            limits=httpx.Limits(
                max_connections=64, max_keepalive_connections=16, keepalive_expiry=10.0
            ),
            # Peers are on the local network; the environment's proxy is not for them.
            trust_env=False,
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def call(
        self, participant: str, path: str, payload: dict[str, Any], timeout: float
    ) -> dict[str, Any]:
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = signed_headers(self.identity, "POST", path, body)
        started = time.monotonic()
        for attempt in (1, 2):
            try:
                response = await self.http.post(
                    self.urls[participant] + path,
                    content=body,
                    headers=headers,
                    timeout=max(timeout - (time.monotonic() - started), 0.05),
                )
                break
            except httpx.TimeoutException:
                raise PeerError(participant, "timed out") from None
            except httpx.HTTPError as error:
                # A pooled connection the peer had just closed fails at once; every
                # participant call is idempotent, so one more try on a fresh one is safe.
                if attempt == 2 or isinstance(error, httpx.ConnectError):
                    raise PeerError(participant, f"unreachable ({type(error).__name__})") from None
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if response.status_code == 409:
            raise PeerError(participant, str(answer.get("explain", "refused")), refused=True)
        if response.status_code != 200 or not isinstance(answer, dict):
            raise PeerError(participant, f"answered HTTP {response.status_code}")
        return answer
