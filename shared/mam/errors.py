"""Exceptions raised by the MAM package."""

from __future__ import annotations

__all__ = ["MamConflictError", "MamError", "MamPayloadError", "MamSignatureError", "NodeApiError"]


class MamError(ValueError):
    """Base of every MAM error; also raised for invalid arguments (seed, mode, side key...)."""


class MamPayloadError(MamError):
    """The payload cannot be decoded: truncated, not trytes, or its framing is corrupted."""


class MamSignatureError(MamError):
    """The payload decodes but does not authenticate against the root.

    A wrong side key, a wrong root and a tampered payload are indistinguishable here:
    each one scrambles the unmasked signature.
    """


class MamConflictError(MamError):
    """Another writer advanced the same channel first; publishing would reuse a Merkle leaf."""


class NodeApiError(MamError):
    """The IOTA node answered a request with an error or could not be reached.

    When publishing failed after the message was prepared (its leaf is spent and the
    position stored), ``mam_message`` holds it so the caller can attach it again.
    """

    mam_message: object | None = None
