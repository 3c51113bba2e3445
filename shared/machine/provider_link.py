"""A robot's link to its energy provider over HTTP, and to the node for payout checks."""

from __future__ import annotations

from typing import Any

import httpx

__all__ = ["HttpProviderLink", "ProviderError"]

_IOTA_HEADERS = {"X-IOTA-API-Version": "1", "Content-Type": "application/json"}


class ProviderError(RuntimeError):
    """The provider refused the energy order or answered nonsense."""


class HttpProviderLink:
    """``POST {provider}/energy-orders`` and a ``findTransactions`` check on the node."""

    def __init__(
        self,
        provider_url: str,
        node_url: str,
        *,
        token: str | None = None,
        timeout: float = 10.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.provider_url = provider_url.rstrip("/")
        self.node_url = node_url
        self.name = self.provider_url
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        # A fleet (services/fleet) passes one client for all its robots: each client of
        # its own costs an SSL context and a connection pool per robot. Its owner closes it.
        self._owns_client = client is None
        self._client = client if client is not None else httpx.AsyncClient(timeout=timeout)

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def refresh_name(self) -> None:
        """Learn the provider's NAME from its ``GET /`` (only used in status messages)."""
        try:
            reply = await self._client.get(self.provider_url + "/")
            name = reply.json().get("name")
            if isinstance(name, str) and name:
                self.name = name
        except (httpx.HTTPError, ValueError):
            pass

    async def request_energy(self, order_id: str, robot: str, amount: int) -> tuple[str, int]:
        reply = await self._client.post(
            self.provider_url + "/energy-orders",
            json={"order_id": order_id, "robot": robot, "amount": amount},
            headers=self._headers,
        )
        if reply.status_code >= 400:
            raise ProviderError(f"provider answered {reply.status_code}: {reply.text[:200]}")
        body: dict[str, Any] = reply.json()
        address, value = body.get("address"), body.get("value")
        if not isinstance(address, str) or len(address) != 81 or not isinstance(value, int):
            raise ProviderError(f"provider answered without address/value: {body!r:.200}")
        if value != amount:
            raise ProviderError(f"provider asks {value}i, we offered {amount}i")
        return address, value

    async def transfer_exists(self, address: str) -> bool:
        reply = await self._client.post(
            self.node_url,
            json={"command": "findTransactions", "addresses": [address]},
            headers=_IOTA_HEADERS,
        )
        reply.raise_for_status()
        return bool(reply.json().get("hashes"))
