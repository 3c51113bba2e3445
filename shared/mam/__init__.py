"""MAM v0 (Masked Authenticated Messaging) channels, byte-compatible with @iota/mam.js.

``create_channel`` / ``channel_root`` / ``create_message`` / ``parse_message`` /
``decode_address`` are the pure protocol; ``ChannelStore`` keeps a writer's position
across restarts; ``ChannelWriter`` / ``ChannelReader`` attach and fetch over an IRI node.
"""

from __future__ import annotations

from shared.mam.channel import (
    MODES,
    ChannelState,
    MamMessage,
    Mode,
    ParsedMessage,
    channel_root,
    create_channel,
    create_message,
    decode_address,
    parse_message,
)
from shared.mam.errors import (
    MamConflictError,
    MamError,
    MamPayloadError,
    MamSignatureError,
    NodeApiError,
)

__all__ = [
    "MODES",
    "ChannelState",
    "MamConflictError",
    "MamError",
    "MamMessage",
    "MamPayloadError",
    "MamSignatureError",
    "Mode",
    "NodeApiError",
    "ParsedMessage",
    "channel_root",
    "create_channel",
    "create_message",
    "decode_address",
    "parse_message",
]
