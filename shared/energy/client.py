"""Register with a producer or the grid (the seed's registration API), with retries.

    client = RegistrationClient("http://grid:8080")
    answer = await client.register("CONSUMER9ID9001", "Jake", "consumer", root, side_key)
    answer.root, answer.side_key        # the grid's return channel (consumers only)

Network failures, 5xx, 408, 429 and 409 (the service does not see our ``hello`` yet) are
retried with :class:`shared.retry.Backoff`; any other 4xx raises
:class:`RegistrationRejected` with the service's message at once (retrying cannot help).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from shared.retry import Backoff, retry_async

__all__ = ["RegistrationAnswer", "RegistrationClient", "RegistrationError", "RegistrationRejected"]

log = logging.getLogger("shared.energy.client")

_RETRY_STATUSES = frozenset({408, 409, 425, 429})


class RegistrationError(Exception):
    """Registering failed after every attempt (the service was unreachable or failing)."""


class RegistrationRejected(RegistrationError):
    """The service refused the request (4xx); ``message`` is its reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


class _Retryable(Exception):
    pass


@dataclass(frozen=True, slots=True)
class RegistrationAnswer:
    """The service's answer; ``root``/``side_key`` are set when it opened a channel for us."""

    message: str
    root: str | None = None
    side_key: str | None = None


class RegistrationClient:
    """PUT/DELETE ``{base_url}/registration/...`` (async, retried)."""

    def __init__(
        self,
        base_url: str,
        *,
        attempts: int = 8,
        timeout: float = 30.0,
        backoff: Backoff | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.attempts = attempts
        self._backoff = backoff
        self._client = client or httpx.AsyncClient(timeout=timeout)
        self._owns_client = client is None

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> RegistrationClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _call(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        url = self.base_url + path

        async def once() -> dict[str, Any]:
            try:
                response = await self._client.request(method, url, json=body)
            except httpx.HTTPError as error:
                log.warning("event=registration_retry url=%s error=%s", url, type(error).__name__)
                raise _Retryable(f"{type(error).__name__}: {error}") from None
            try:
                answer = response.json()
            except ValueError:
                answer = {}
            message = str(answer.get("message", "")) if isinstance(answer, dict) else ""
            if response.status_code >= 500 or response.status_code in _RETRY_STATUSES:
                log.warning(
                    "event=registration_retry url=%s status=%d message=%s",
                    url,
                    response.status_code,
                    message[:200],
                )
                raise _Retryable(f"HTTP {response.status_code}: {message}")
            if response.status_code >= 400 or not isinstance(answer, dict):
                raise RegistrationRejected(response.status_code, message or response.text[:200])
            return answer

        try:
            return await retry_async(
                once,
                attempts=self.attempts,
                retry_on=(_Retryable,),
                backoff=self._backoff or Backoff(0.2, 5.0),
            )
        except _Retryable as error:
            raise RegistrationError(f"{method} {url} failed: {error}") from None

    async def register(
        self,
        registration_id: str,
        item_name: str,
        item_type: str,
        root: str | None = None,
        side_key: str | None = None,
        role: str | None = None,
    ) -> RegistrationAnswer:
        """PUT the registration; the answer may name a channel for us to read. ``role``
        is sent only when ``item_type`` does not name it (shared/energy/roles.py)."""
        body: dict[str, Any] = {"itemName": item_name, "itemType": item_type}
        if role is not None:
            body["role"] = role
        if root is not None:
            body["root"] = root
        if side_key is not None:
            body["sideKey"] = side_key
        answer = await self._call("PUT", f"/registration/{quote(registration_id, safe='')}", body)
        return RegistrationAnswer(
            message=str(answer.get("message", "")),
            root=answer.get("root"),
            side_key=answer.get("sideKey"),
        )

    async def deregister(self, registration_id: str, side_key: str | None = None) -> None:
        """DELETE the registration (with its sideKey if it has one)."""
        path = f"/registration/{quote(registration_id, safe='')}"
        if side_key is not None:
            path += f"/{side_key}"
        await self._call("DELETE", path, None)
