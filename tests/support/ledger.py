"""Ledger participants as real processes for tests: ``python -m services.ledger`` each.

    with LedgerCluster(tmp_path, ["a", "b", "c"]) as cluster:
        token = cluster.token("a")
        replies = cluster.request("a", {...create-ledger...}, token)

Every participant gets its own Ed25519 key, port and database (SQLite files under the
directory, or PostgreSQL URLs given per participant). :meth:`stop` (SIGTERM),
:meth:`kill` (SIGKILL) and :meth:`start` take one participant down and bring it back on
the same port with the same database.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import websocket  # websocket-client
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.auth import hash_password
from tests.support.devnet import free_port

__all__ = ["PASSWORD", "USER", "LedgerCluster", "create_message", "issue_message"]

ROOT = Path(__file__).resolve().parents[2]
USER = "auditor"
PASSWORD = "auditor-password-1"
_HASH = hash_password(PASSWORD)
TYPES = "https://github.com/Sirius-social/TMTM/tree/master/transactions/1.0/"


def _raw(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def public_key_of(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def issue_message(ledger: str, no: str, **extra: Any) -> dict[str, Any]:
    message = {
        "@type": TYPES + "issue-transaction",
        "@id": f"txn-{no}",
        "no": no,
        "date": "2026-11-29",
        "cargo": "coal",
        "departure_station": "Aktau",
        "arrival_station": "Baku",
        "doc_type": "WayBill",
        "ledger": {"name": ledger},
    }
    message.update(extra)
    return message


def create_message(name: str, genesis: int = 1, ttl: float = 20) -> dict[str, Any]:
    return {
        "@type": TYPES + "create-ledger",
        "@id": f"create-{name}",
        "name": name,
        "genesis": [issue_message(name, f"g{i}") for i in range(genesis)],
        "time_to_live": ttl,
    }


class LedgerCluster:
    def __init__(
        self,
        directory: Path,
        names: list[str],
        *,
        database_urls: dict[str, str] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.directory = directory
        self.names = names
        self.keys = {name: Ed25519PrivateKey.generate() for name in names}
        self.ports = {name: free_port() for name in names}
        self.database_urls = database_urls or {}
        self.env = env or {}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.participants = [
            {"name": n, "url": self.url(n), "public_key": public_key_of(self.keys[n])}
            for n in names
        ]

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def ws_url(self, name: str, token: str) -> str:
        return f"ws://127.0.0.1:{self.ports[name]}/transactions?token={token}"

    def log(self, name: str) -> str:
        try:
            return (self.directory / f"{name}.log").read_text(errors="replace")
        except OSError:
            return ""

    # -- processes ---------------------------------------------------------------------------
    def start(self, name: str, *, wait: bool = True, **env: str) -> None:
        full = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
        full.update(
            {
                "PYTHONPATH": str(ROOT),
                "HOST": "127.0.0.1",
                "PORT": str(self.ports[name]),
                "DATA_DIR": str(self.directory / name),
                "LOG_LEVEL": "INFO",
                "LEDGER_PARTICIPANT": name,
                "LEDGER_PARTICIPANTS": json.dumps(self.participants),
                "LEDGER_PRIVATE_KEY": base64.b64encode(_raw(self.keys[name])).decode(),
                "LEDGER_USERS": json.dumps({USER: _HASH}),
                "LEDGER_RECOVERY_INTERVAL": "0.2",
                "LEDGER_PING_TIMEOUT": "1.5",
            }
        )
        if name in self.database_urls:
            full["DATABASE_URL"] = self.database_urls[name]
        full.update(self.env)
        full.update(env)
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / f"{name}.log", "ab") as out:
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", "services.ledger"],
                env=full,
                cwd=ROOT,
                stdout=out,
                stderr=out,
            )
        if wait:
            self.wait_ready(name)

    def wait_ready(self, name: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = self.procs[name]
            if proc.poll() is not None:
                raise RuntimeError(f"participant {name} exited:\n{self.log(name)[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url(name) + "/health", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise TimeoutError(f"participant {name} not ready:\n{self.log(name)[-3000:]}")

    def start_all(self) -> LedgerCluster:
        for name in self.names:
            self.start(name, wait=False)
        for name in self.names:
            self.wait_ready(name)
        return self

    def _end(self, name: str, sig: int) -> None:
        proc = self.procs.get(name)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)

    def stop(self, name: str) -> None:
        self._end(name, signal.SIGTERM)

    def kill(self, name: str) -> None:
        self._end(name, signal.SIGKILL)

    def stop_all(self) -> None:
        for name in self.names:
            self.stop(name)

    def __enter__(self) -> LedgerCluster:
        return self.start_all()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop_all()

    # -- clients -----------------------------------------------------------------------------
    def get(self, name: str, path: str, *, auth: bool = True, **kw: Any) -> httpx.Response:
        return httpx.get(
            self.url(name) + path, auth=(USER, PASSWORD) if auth else None, timeout=15, **kw
        )

    def token(self, name: str) -> str:
        response = httpx.post(
            self.url(name) + "/maintenance/allocate_token/", auth=(USER, PASSWORD), timeout=10
        )
        response.raise_for_status()
        return str(response.json()["token"])

    def request(
        self, name: str, message: Any, token: str | None = None, timeout: float = 30
    ) -> list[dict[str, Any]]:
        """Send one websocket request; every message until the server closes the socket."""
        ws = websocket.create_connection(
            self.ws_url(name, token or self.token(name)), timeout=timeout
        )
        try:
            if isinstance(message, bytes):
                ws.send_binary(message)  # (websocket-client's send() would make it a text frame)
            else:
                ws.send(message if isinstance(message, str) else json.dumps(message))
            replies: list[dict[str, Any]] = []
            while True:
                try:
                    frame = ws.recv()
                except (TimeoutError, websocket.WebSocketTimeoutException):
                    raise TimeoutError(f"no reply from {name} in {timeout} s: {replies}") from None
                except (websocket.WebSocketConnectionClosedException, OSError):
                    break  # closed by the server, or the server died
                if not frame:
                    break
                replies.append(json.loads(frame))
            return replies
        finally:
            ws.close()

    def wait_log(self, name: str, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log(name):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{text!r} not in {name}'s log:\n{self.log(name)[-2000:]}")
            time.sleep(0.05)

    def ledger_by_name(self, name: str, ledger: str) -> dict[str, Any] | None:
        listing = self.get(name, "/ledgers/").json()
        for item in listing["results"]:
            if item["name"] == ledger:
                return dict(item)
        return None

    def all_transactions(self, name: str, ledger_id: int) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        path: str | None = f"/ledgers/{ledger_id}/transactions/"
        while path:
            page = self.get(name, path).json()
            items.extend(page["results"])
            nxt = page["next"]
            path = nxt[len(self.url(name)) :] if nxt else None
        return sorted(items, key=lambda item: item["seq_no"])
