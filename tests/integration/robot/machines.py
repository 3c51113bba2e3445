"""Start robots, energy providers and the dashboard as real processes (integration, e2e, bench).

Each service runs as ``sys.executable -m services.<name>`` on a free port with its own DATA_DIR;
the port stays the same across restarts so a test can SIGKILL a machine and start it again.
"""

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

__all__ = ["ServiceProcess", "machine_env", "random_seed"]

_REPO_ROOT = Path(__file__).resolve().parents[3]
_TRYTES = "9ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def random_seed() -> str:
    return "".join(secrets.choice(_TRYTES) for _ in range(81))


def machine_env(devnet: DevnetProcess, name: str, data_dir: Path, **extra: Any) -> dict[str, str]:
    env = {
        "NAME": name,
        "SEED": random_seed(),
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
        "IOTA_NODE_URL": devnet.api_url,
        "IOTA_ZMQ_URL": devnet.zmq_url,
        "DATA_DIR": str(data_dir),
        "POLL_INTERVAL": "0.5",
    }
    env.update({key.upper(): str(value) for key, value in extra.items()})
    return env


class ServiceProcess:
    """One ``python -m services.<module>`` subprocess; logs to ``<data_dir>/<module>.log``."""

    def __init__(self, module: str, env: dict[str, str], log_dir: Path) -> None:
        self.module = module
        self.env = env
        self.port = int(env["PORT"])
        self.url = f"http://127.0.0.1:{self.port}"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{module}-{env.get('NAME', module).replace(' ', '-')}.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    def start(self, timeout: float = 180) -> ServiceProcess:
        full_env = {**os.environ, **self.env, "PYTHONUNBUFFERED": "1"}
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in _reap
        self._process = subprocess.Popen(
            [sys.executable, "-m", f"services.{self.module}"],
            cwd=_REPO_ROOT,
            env=full_env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._reap()
                raise RuntimeError(f"{self.module} exited early:\n{self.log_tail()}")
            try:
                health = httpx.get(self.url + "/health", timeout=2).json()
                if health.get("status") == "ok" and health.get("machine_status") != "booting":
                    return self
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"{self.module} not ready after {timeout}s:\n{self.log_tail()}")

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self, timeout: float = 10) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(10)
        self._reap()

    def kill(self) -> None:
        """SIGKILL: the crash case."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(10)
        self._reap()

    def _reap(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> ServiceProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
