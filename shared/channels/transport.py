"""How a channel node reaches its peers and the agent, chosen once when the node is built.

Payments (``post``) travel on the lighter kept-alive ``PeerLink`` unless a client was
given (tests give an ASGI one: then every request goes through it) or the environment
names a proxy (then a peer the proxy does not bypass is reached through httpx, which
honours it). The choice is made here, once, and ``post`` is bound to it: the hot path
does not ask again on every payment. Everything else (``create``, ``is_ready``, the
agent's routes) goes through one httpx client, made when first needed.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from shared.channels.peerlink import LinkError, PeerLink, uses_proxy

# (url, JSON payload) -> (status, body); raises TransportError when nothing answered.
Post = Callable[[str, Any], Awaitable[tuple[int, bytes]]]


class TransportError(Exception):
    """The peer did not answer; the message says how."""


class Transport:
    """The node's HTTP: ``post`` for payments, ``http()`` for everything else."""

    def __init__(self, timeout: float, client: httpx.AsyncClient | None = None) -> None:
        self.timeout = timeout
        self._client = client
        self._link: PeerLink | None = None
        self._proxied: dict[str, bool] = {}
        self.post: Post
        if client is not None:
            self.post = self._post_httpx
        elif urllib.request.getproxies():
            self.post = self._post_unless_proxied
        else:
            self.post = self._post_link

    @property
    def kind(self) -> str:
        """Which path payments take: ``client``, ``proxy-aware`` or ``link`` (logs, tests)."""
        if self.post == self._post_httpx:
            return "client"
        return "proxy-aware" if self.post == self._post_unless_proxied else "link"

    def http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout)
        return self._client

    async def _post_httpx(self, url: str, payload: Any) -> tuple[int, bytes]:
        try:
            reply = await self.http().post(url, json=payload)
        except httpx.HTTPError as error:
            raise TransportError(repr(error)) from None
        return reply.status_code, reply.content

    async def _post_link(self, url: str, payload: Any) -> tuple[int, bytes]:
        link = self._link
        if link is None:
            link = self._link = PeerLink(self.timeout)
        try:
            return await link.post_json(url, payload)
        except LinkError as error:
            raise TransportError(str(error)) from None

    async def _post_unless_proxied(self, url: str, payload: Any) -> tuple[int, bytes]:
        # Proxy bypass (NO_PROXY) is per host: decided once per peer URL.
        proxied = self._proxied.get(url)
        if proxied is None:
            proxied = self._proxied[url] = uses_proxy(url)
        if proxied:
            return await self._post_httpx(url, payload)
        return await self._post_link(url, payload)

    async def aclose(self) -> None:
        if self._link is not None:
            await self._link.aclose()
            self._link = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None
