"""A channel node (``python -m services.channels``) as a real process on a free port."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from tests.support.devnet import DevnetProcess, random_seed
from tests.support.process import ManagedProcess, free_port


class ChannelProcess:
    """One channel node. ``role`` is all, front or background (HA)."""

    def __init__(
        self,
        name: str,
        devnet: DevnetProcess,
        data_dir: Path,
        *,
        role: str = "all",
        seed: str | None = None,
        key: str | None = None,
        database_url: str | None = None,
        public_url: str | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.devnet = devnet
        self.data_dir = Path(data_dir)
        self.role = role
        self.seed = seed or random_seed()
        self.key = key or secrets.token_hex(32)
        self.token = secrets.token_hex(16)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.public_url = public_url or self.url
        self.database_url = database_url
        self.extra_env = dict(extra_env or {})
        self.log_path = self.data_dir / f"{name}.log"
        # the whole environment is built by env() (CHANNELS_* of the caller's left out)
        self._process = ManagedProcess(
            name, ["-m", "services.channels"], env={}, log_path=self.log_path, inherit_env=False
        )
        self.client = httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=60
        )

    @property
    def peer_url(self) -> str:
        return f"{self.public_url}/channels/peer"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHANNELS_")}
        env.update(
            {
                "CHANNELS_ROLE": self.role,
                "CHANNELS_HOST": "127.0.0.1",
                "CHANNELS_PORT": str(self.port),
                "CHANNELS_PUBLIC_URL": self.public_url,
                "CHANNELS_NODE_URL": self.devnet.api_url,
                "CHANNELS_KEY": self.key,
                "CHANNELS_DATA_DIR": str(self.data_dir),
                "CHANNELS_ADMIN_TOKEN": self.token,
                "CHANNELS_MWM": str(self.devnet.mwm),
                "CHANNELS_WATCH_INTERVAL": "0.3",
                "CHANNELS_MIN_TIMEOUT": "1",
                "CHANNELS_NAME": self.name,
                "PYTHONUNBUFFERED": "1",
            }
        )
        if self.role != "front":
            env["CHANNELS_SEED"] = self.seed
        if self.database_url:
            env["CHANNELS_DATABASE_URL"] = self.database_url
        env.update(self.extra_env)
        return env

    @property
    def running(self) -> bool:
        return self._process.running

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def agent(self, cid: str) -> dict[str, Any]:
        """The agent's view of a channel (GET /channels/<id> on the devnet)."""
        reply = httpx.get(f"{self.devnet.api_url}/channels/{cid}", timeout=30)
        reply.raise_for_status()
        result: dict[str, Any] = reply.json()
        return result

    def start(self, timeout: float = 180) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._process.env = self.env()

        def ready() -> str | None:
            return None if self.client.get("/health", timeout=2).status_code == 200 else "starting"

        self._process.start(ready, timeout=timeout)

    def stop(self, timeout: float = 15) -> None:
        self._process.stop(timeout)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        self._process.kill()

    def log_tail(self, lines: int = 60) -> str:
        return self._process.log_tail(lines)

    def __enter__(self) -> ChannelProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.stop()
        finally:
            self.kill()
            self.client.close()

    # -- admin API -----------------------------------------------------------

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.client.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise AssertionError(
                f"{self.name} {method} {path}: {response.status_code} {response.text}"
            )
        return response.json()

    def fund(self, value: int) -> None:
        """Faucet ``value`` to a fresh wallet address and wait for the confirmation."""
        address = self.call("POST", "/wallet/address")["address"]
        paid = self.devnet.faucet(address, value)
        self.devnet.wait_confirmed([paid["tail"]], timeout=60)

    def balance(self) -> int:
        return int(self.call("GET", "/wallet")["balance"])

    def create(self, peer: ChannelProcess, amount: int, timeout: int) -> str:
        body = {"peer": peer.peer_url, "amount": amount, "timeout": timeout}
        return str(self.call("POST", "/channels", json=body)["channel_id"])

    def status(self, cid: str) -> dict[str, Any]:
        result: dict[str, Any] = self.call("GET", f"/channels/{cid}")
        return result

    def wait(self, cid: str, predicate: Any, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        state: dict[str, Any] = {}
        while time.monotonic() < deadline:
            state = self.status(cid)
            if predicate(state):
                return state
            time.sleep(0.2)
        raise AssertionError(f"{self.name}: condition not met in {timeout}s: {state}")
