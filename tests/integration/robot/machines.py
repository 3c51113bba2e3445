"""Start robots, energy providers and the dashboard as real processes (integration, e2e, bench).

Each service runs as ``sys.executable -m services.<name>`` on a free port with its own DATA_DIR;
the port stays the same across restarts so a test can SIGKILL a machine and start it again.
Starting, waiting and stopping are tests/support/process.py's.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from tests.support.devnet import DevnetProcess, random_seed
from tests.support.process import ManagedProcess, free_port

__all__ = ["ServiceProcess", "machine_env", "random_seed"]


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
        self._process = ManagedProcess(
            module, ["-m", f"services.{module}"], env=env, log_path=self.log_path
        )

    def start(self, timeout: float = 120) -> ServiceProcess:
        self._process.env = dict(self.env)
        self._process.start(self._ready, timeout)
        return self

    def _ready(self) -> str | None:
        health = httpx.get(self.url + "/health", timeout=2).json()
        if health.get("status") == "ok" and health.get("machine_status") != "booting":
            return None
        return f"health: {health}"

    @property
    def running(self) -> bool:
        return self._process.running

    def stop(self, timeout: float = 10) -> None:
        self._process.stop(timeout)

    def kill(self) -> None:
        """SIGKILL: the crash case."""
        self._process.kill()

    def log_tail(self, lines: int = 40) -> str:
        return self._process.log_tail(lines)

    def __enter__(self) -> ServiceProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
