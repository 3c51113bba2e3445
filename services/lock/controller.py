"""The controller object every route shares: settings, database, MQTT link, per-tool locks."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from services.lock.db import Account, Circle, CircleMember, Tool, create_schema, utcnow
from services.lock.link import LockLink
from services.lock.settings import LockSettings
from services.lock.views import record
from shared.auth import hash_password, verify_password
from shared.db import make_engine, make_sessionmaker, run_db
from shared.mqtt.client import MqttClient
from shared.mqtt.topics import device_prefix

if TYPE_CHECKING:
    from services.lock.paid import PaidAccess

__all__ = ["Controller"]

log = logging.getLogger("services.lock")

#: Bearer tokens remembered at once (docs/lock.md, "Authentication").
MAX_KNOWN_TOKENS = 10_000


class Controller:
    """Owns the engine, the sessions and the MQTT connection for the app's lifetime.

    Database work is done in short sessions (``with controller.sessions() as session``) in
    worker threads; no session lives across an ``await`` of the broker.
    """

    def __init__(self, settings: LockSettings) -> None:
        self.settings = settings
        self.engine = make_engine(settings.database())
        self.sessions: sessionmaker[Session] = make_sessionmaker(self.engine)
        self.mqtt = MqttClient(settings.broker, client_id=f"lock-controller-{settings.name}")
        self.link = LockLink(self.mqtt, settings.mqtt_prefix)
        self._tool_locks: dict[int, asyncio.Lock] = {}
        # Live bearer tokens seen (digest -> account, expiry): a token is checked in memory
        # after its first use, not with two queries and a thread hop per request. Tokens are
        # never revoked and accounts never deleted, so the database stays the truth.
        self._tokens: dict[str, tuple[Account, datetime]] = {}
        # Pay-per-use (services/lock/paid.py), set at start when LOCK_CHANNEL_SEED is given.
        self.paid: PaidAccess | None = None

    def known_token(self, digest: str) -> Account | None:
        """The account of a live token this process has seen (no database access)."""
        known = self._tokens.get(digest)
        if known is None or known[1] <= utcnow():
            return None
        return known[0]

    def remember_token(self, digest: str, account: Account, expires_at: datetime) -> None:
        if len(self._tokens) >= MAX_KNOWN_TOKENS:
            self._tokens.clear()  # bounded; the next use of each reads the database again
        self._tokens[digest] = (account, expires_at)

    def tool_lock(self, tool_id: int) -> asyncio.Lock:
        return self._tool_locks.setdefault(tool_id, asyncio.Lock())

    async def start(self) -> None:
        """Create or upgrade the schema, make the admin, connect and watch every tool's device."""
        migrated = await run_db(create_schema, self.engine, self.settings.mqtt_prefix)
        if migrated:
            log.warning(
                "event=tools_migrated count=%d prefix=%s/{device_id} action=%s",
                migrated,
                self.settings.mqtt_prefix,
                "set_each_device_MQTT_PREFIX_to_this_and_reload_the_ACL(docs/lock.md#upgrading)",
            )
        await run_db(self.bootstrap_admin)
        await run_db(self.bootstrap_tools)
        await self.mqtt.start()
        for prefix in await run_db(self.tool_prefixes):
            await self.link.watch(prefix)

    def tool_prefixes(self) -> list[str]:
        with self.sessions() as session:
            return sorted(set(session.scalars(select(Tool.device_prefix))))

    def bootstrap_admin(self) -> None:
        """Make sure the admin circle exists and LOCK_ADMIN_USERNAME is in it."""
        s = self.settings
        with self.sessions() as session:
            circle = session.scalar(select(Circle).where(Circle.name == s.lock_admin_circle))
            if circle is None:
                circle = Circle(name=s.lock_admin_circle, description="manages everything")
                session.add(circle)
                session.flush()
            if s.lock_admin_password is None:
                session.commit()
                return
            password = s.lock_admin_password.get_secret_value()
            admin = session.scalar(select(Account).where(Account.username == s.lock_admin_username))
            if admin is None:
                admin = Account(
                    username=s.lock_admin_username, password_hash=hash_password(password)
                )
                session.add(admin)
                session.flush()
                log.info("event=admin_created username=%s", admin.username)
            elif not verify_password(password, admin.password_hash):
                # The environment is the source of truth for the admin password.
                admin.password_hash = hash_password(password)
                log.info("event=admin_password_reset username=%s", admin.username)
            if session.get(CircleMember, (circle.id, admin.id)) is None:
                session.add(CircleMember(circle_id=circle.id, account_id=admin.id))
            session.commit()

    def bootstrap_tools(self) -> None:
        """Create the tools of ``LOCK_TOOLS`` that do not exist yet (by name)."""
        prefix_root = self.settings.mqtt_prefix
        with self.sessions() as session:
            for wanted in self.settings.lock_tools:
                if session.scalar(select(Tool).where(Tool.name == wanted.name)) is not None:
                    continue
                prefix = wanted.device_prefix or device_prefix(prefix_root, wanted.device_id)
                tool = Tool(**wanted.model_dump(exclude={"device_prefix"}), device_prefix=prefix)
                session.add(tool)
                session.flush()
                record(session, "tool_created", tool_id=tool.id, detail=f"{tool.name} (LOCK_TOOLS)")
                log.info("event=tool_created name=%s pricing=%s", tool.name, tool.pricing)
            session.commit()

    async def close(self) -> None:
        await self.mqtt.close()
        self.engine.dispose()
