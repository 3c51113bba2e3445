"""The dashboard's Access panel (issue 23): the lock's tools, prices, sessions and income.

The page polls ``GET /api/access``, which the dashboard answers by asking the lock controller
(``LOCK_URL``) itself, as the energy view asks the grid: the browser needs to reach only the
dashboard. ``GET /tools`` is public; ``/sessions`` and ``/income`` need an account
(``LOCK_USER`` / ``LOCK_PASSWORD``). The dashboard trades the password for a bearer token
once and keeps it: HTTP Basic costs the lock ~50 ms of scrypt per call (docs/lock.md), too
much for a page that polls every few seconds.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, Request

from services.dashboard.deps import HttpDep, SettingsDep
from services.dashboard.settings import DashboardSettings

__all__ = ["LockReader", "router"]

log = logging.getLogger("dashboard.access")

#: Sessions shown (newest first).
SESSIONS = 20


class LockReader:
    """GETs from the lock controller with a bearer token, renewed when the lock says 401."""

    def __init__(self, settings: DashboardSettings) -> None:
        self.settings = settings
        self._token: str | None = None
        self._renewing = asyncio.Lock()

    @property
    def url(self) -> str | None:
        return self.settings.lock_url.rstrip("/") if self.settings.lock_url else None

    async def _renew(self, client: httpx.AsyncClient, stale: str | None) -> str | None:
        s = self.settings
        if self.url is None or s.lock_user is None or s.lock_password is None:
            return None
        async with self._renewing:
            if self._token is not None and self._token != stale:
                return self._token  # another request renewed it meanwhile
            reply = await client.post(
                self.url + "/auth/token", auth=(s.lock_user, s.lock_password.get_secret_value())
            )
            if reply.status_code != 200:
                log.warning("event=lock_token_refused status=%d", reply.status_code)
                self._token = None
                return None
            self._token = str(reply.json()["access_token"])
            return self._token

    async def get(self, client: httpx.AsyncClient, path: str, *, account: bool = False) -> Any:
        """JSON of ``path`` on the lock, or None (logged at debug) when it does not answer."""
        assert self.url is not None
        try:
            headers = {}
            token: str | None = None
            if account:
                token = self._token or await self._renew(client, None)
                if token is None:
                    return None
                headers["Authorization"] = f"Bearer {token}"
            reply = await client.get(self.url + path, headers=headers)
            if reply.status_code == 401 and account:  # expired, or the lock's data was reset
                token = await self._renew(client, token)
                if token is None:
                    return None
                headers["Authorization"] = f"Bearer {token}"
                reply = await client.get(self.url + path, headers=headers)
            if reply.status_code != 200:
                return None
            return reply.json()
        except (httpx.HTTPError, ValueError, KeyError) as error:
            log.debug("event=lock_fetch_failed path=%s error=%s", path, type(error).__name__)
            return None


def _reader(request: Request) -> LockReader:
    reader: LockReader = request.app.state.lock_reader
    return reader


#: Module-level; the app puts its settings, the LockReader and the HTTP client on app.state.
router = APIRouter(tags=["access"])


@router.get("/api/access")
async def access(
    settings: SettingsDep,
    reader: Annotated[LockReader, Depends(_reader)],
    client: HttpDep,
) -> dict[str, Any]:
    """The Access panel: the lock's tools (pricing, state, holder, active session, income),
    its latest paid sessions and its income; ``up`` false when the lock does not answer."""
    if reader.url is None:
        return {"configured": False, "up": False, "tools": [], "sessions": [], "income": None}
    tools, sessions, income = await asyncio.gather(
        reader.get(client, "/tools"),
        reader.get(client, f"/sessions?limit={SESSIONS}", account=True),
        reader.get(client, "/income", account=True),
    )
    return {
        "configured": True,
        "up": tools is not None,
        # Sessions and income need LOCK_USER / LOCK_PASSWORD; the page says so when absent.
        "account": settings.lock_user is not None and settings.lock_password is not None,
        "tools": tools or [],
        "sessions": sessions or [],
        "income": income,
    }
