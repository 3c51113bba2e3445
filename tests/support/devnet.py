"""Start a real devnet process (``python -m services.devnet``) for tests in any area.

Usage::

    from tests.support.devnet import DevnetProcess, devnet_fixture

    with DevnetProcess(tmp_path / "devnet") as devnet:
        devnet.faucet(address, 1000)
        api = Iota(devnet.api_url)

Ports are chosen free once per instance and stay the same across restarts, so a
test can ``kill()`` and ``start()`` again and keep talking to the same URLs.
The process writes its output to ``<data_dir>/devnet.log``; its tail is
printed when start-up fails. Starting, waiting and stopping are tests/support/process.py's.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from tests.support.process import ManagedProcess, free_port

__all__ = [
    "PUBLIC_TEST_FAUCET_SEED",
    "DevnetProcess",
    "devnet_fixture",
    "free_port",
    "random_seed",
]

_TRYTES = "9ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def random_seed() -> str:
    """A fresh 81-tryte seed (a wallet, a channel, a machine) from the OS's randomness."""
    return "".join(secrets.choice(_TRYTES) for _ in range(81))


# Must match services.devnet.settings.PUBLIC_TEST_FAUCET_SEED (a test pins them together).
# PUBLIC: anybody can read this seed; it only ever holds devnet tokens.
PUBLIC_TEST_FAUCET_SEED = "DEVNET9PUBLIC9TEST9SEED9DO9NOT9USE9FOR9ANYTHING9REAL9" + "9" * 28

_HEADERS = {"X-IOTA-API-Version": "1", "Content-Type": "application/json"}


class DevnetProcess:
    """One devnet node + coordinator as a subprocess on free ports."""

    def __init__(
        self,
        data_dir: Path,
        *,
        milestone_interval: float = 0.5,
        mwm: int = 9,
        faucet_seed: str | None = None,
        snapshot: Path | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.milestone_interval = milestone_interval
        self.mwm = mwm
        self.faucet_seed = faucet_seed or PUBLIC_TEST_FAUCET_SEED
        self._explicit_seed = faucet_seed is not None
        self.snapshot = snapshot
        self.extra_env = dict(extra_env or {})
        self.port = free_port()
        self.zmq_port = free_port()
        self.api_url = f"http://127.0.0.1:{self.port}"
        self.zmq_url = f"tcp://127.0.0.1:{self.zmq_port}"
        self.log_path = self.data_dir / "devnet.log"
        self._process = ManagedProcess(
            "devnet",
            ["-m", "services.devnet"],
            env={},
            log_path=self.log_path,
            inherit_env=False,  # env() already holds os.environ without stray DEVNET_*
        )

    # -- lifecycle ---------------------------------------------------------

    def env(self) -> dict[str, str]:
        """The environment the devnet process is started with."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("DEVNET_")}
        env.update(
            {
                "DEVNET_HOST": "127.0.0.1",
                "DEVNET_PORT": str(self.port),
                "DEVNET_ZMQ_PORT": str(self.zmq_port),
                "DEVNET_MWM": str(self.mwm),
                "DEVNET_MILESTONE_INTERVAL": str(self.milestone_interval),
                "DEVNET_DATA_DIR": str(self.data_dir),
                # A test devnet's faucet is open unless a test gives DEVNET_FAUCET_TOKEN.
                "DEVNET_FAUCET_OPEN": "true",
                "PYTHONUNBUFFERED": "1",
            }
        )
        if self._explicit_seed:
            env["DEVNET_FAUCET_SEED"] = self.faucet_seed
        if self.snapshot is not None:
            env["DEVNET_SNAPSHOT"] = str(self.snapshot)
        env.update(self.extra_env)
        return env

    @property
    def running(self) -> bool:
        return self._process.running

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def start(self, timeout: float = 120) -> None:
        """Spawn the devnet; return once getNodeInfo answers with at least one milestone."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._process.env = self.env()
        self._process.start(self._ready, timeout)

    def _ready(self) -> str | None:
        info = self.command("getNodeInfo", timeout=2)
        if int(info.get("latestMilestoneIndex", 0)) >= 1:
            return None
        return f"no milestone yet: {info.get('latestMilestoneIndex')}"

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM and wait (SIGKILL if it does not exit in ``timeout``)."""
        self._process.stop(timeout)

    def kill(self) -> None:
        """SIGKILL and wait: the crash case."""
        self._process.kill()

    def log_tail(self, lines: int = 40) -> str:
        return self._process.log_tail(lines)

    def __enter__(self) -> DevnetProcess:
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
        except Exception:
            self.kill()

    # -- talking to it -----------------------------------------------------

    def command(self, command: str, timeout: float = 30, **params: Any) -> dict[str, Any]:
        """POST one IRI command; raises httpx.HTTPStatusError on an error status."""
        response = httpx.post(
            self.api_url, json={"command": command, **params}, headers=_HEADERS, timeout=timeout
        )
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def faucet(self, address: str, value: int) -> dict[str, Any]:
        """POST /faucet; raises httpx.HTTPStatusError if the devnet refuses."""
        headers = {}
        token = self.extra_env.get("DEVNET_FAUCET_TOKEN")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = httpx.post(
            f"{self.api_url}/faucet",
            json={"address": address, "value": value},
            headers=headers,
            timeout=60,
        )
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def wait_confirmed(self, hashes: list[str], timeout: float = 30) -> None:
        """Block until every transaction in ``hashes`` is confirmed by a milestone."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = self.command("getInclusionStates", transactions=hashes)["states"]
            if all(states):
                return
            time.sleep(0.1)
        raise TimeoutError(f"not confirmed after {timeout}s: {hashes}")


@contextlib.contextmanager
def devnet_fixture(data_dir: Path, **options: Any) -> Iterator[DevnetProcess]:
    """Context manager for a pytest fixture: ``with devnet_fixture(tmp) as d: yield d``.

    Always kills the process at the end, even when the test failed half-way.
    """
    devnet = DevnetProcess(data_dir, **options)
    devnet.start()
    try:
        yield devnet
    finally:
        try:
            devnet.stop()
        finally:
            devnet.kill()
