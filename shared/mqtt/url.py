"""Parse ``mqtt://user:password@host:port`` broker URLs into connection parameters."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

__all__ = ["MqttUrl", "parse_mqtt_url"]


@dataclass(frozen=True, slots=True)
class MqttUrl:
    """Where a broker is and who we are there; repr never shows the password."""

    host: str
    port: int = 1883
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    def redacted(self) -> str:
        """The URL with the password replaced, for logs."""
        user = f"{self.username}:***@" if self.username else ""
        return f"mqtt://{user}{self.host}:{self.port}"


def parse_mqtt_url(url: str) -> MqttUrl:
    """Parse an ``mqtt://`` URL; raise ValueError with a reason (never echoing the password)."""
    parts = urlsplit(url)
    if parts.scheme != "mqtt":
        raise ValueError("MQTT URL must start with mqtt:// (TLS is not supported)")
    try:
        port = parts.port or 1883
    except ValueError:
        raise ValueError("MQTT URL has an invalid port") from None
    if not parts.hostname:
        raise ValueError("MQTT URL has no host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("MQTT URL must not have a path, query or fragment")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    return MqttUrl(parts.hostname, port, username, password)
