"""A channel node (``python -m services.channels``) as a real process on a free port."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from tests.support.devnet import DevnetProcess, free_port

_REPO_ROOT = Path(__file__).resolve().parents[2]


def random_seed() -> str:
    alphabet = "9ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "".join(secrets.choice(alphabet) for _ in range(81))


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
        self._process: subprocess.Popen[bytes] | None = None
        self._log: Any = None
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
        return self._process is not None and self._process.poll() is None

    def agent(self, cid: str) -> dict[str, Any]:
        """The agent's view of a channel (GET /channels/<id> on the devnet)."""
        reply = httpx.get(f"{self.devnet.api_url}/channels/{cid}", timeout=30)
        reply.raise_for_status()
        result: dict[str, Any] = reply.json()
        return result

    def start(self, timeout: float = 180) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in _reap
        self._process = subprocess.Popen(
            [sys.executable, "-m", "services.channels"],
            cwd=_REPO_ROOT,
            env=self.env(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._reap()
                raise RuntimeError(f"{self.name} exited\n{self.log_tail()}")
            try:
                if self.client.get("/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"{self.name} not ready after {timeout}s\n{self.log_tail()}")

    def stop(self, timeout: float = 15) -> None:
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5)
        self._reap()

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(10)
        self._reap()

    def _reap(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

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
