"""Start a fleet (``python -m services.fleet``) as a real process for tests and benchmarks.

    with FleetProcess("robot", 20, devnet, tmp_path / "robots", config={...}) as fleet:
        fleet.machine_url("robot-3")        # http://127.0.0.1:<port>/m/robot-3

Ready once the fleet's ``/health`` is 200: the node answers, the ZMQ feed is up and every
machine has started. Output goes to ``<data_dir>/fleet.log``.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from tests.support.devnet import DevnetProcess, random_seed
from tests.support.process import ManagedProcess, free_port

__all__ = ["FleetProcess"]


class FleetProcess:
    """One fleet of ``count`` machines of ``kind`` on a free port, against ``devnet``."""

    def __init__(
        self,
        kind: str,
        count: int,
        devnet: DevnetProcess,
        data_dir: Path,
        *,
        config: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.kind = kind
        self.count = count
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        args = ["-m", "services.fleet", "--kind", kind, "--count", str(count)]
        args += ["--port", str(self.port), "--host", "127.0.0.1", "--data-dir", str(data_dir)]
        if config is not None:
            path = data_dir / "fleet.json"  # JSON is YAML too
            path.write_text(json.dumps(config))
            args += ["--config", str(path)]
        self.env = {
            "FLEET_SEED": random_seed(),
            "IOTA_NODE_URL": devnet.api_url,
            "IOTA_ZMQ_URL": devnet.zmq_url,
            "POLL_INTERVAL": "0.5",
            **(env or {}),
        }
        self._process = ManagedProcess(
            f"fleet-{kind}", args, env=self.env, log_path=data_dir / "fleet.log"
        )

    def machine_url(self, name: str) -> str:
        return f"{self.url}/m/{name}"

    def socketio_path(self, name: str) -> str:
        """What a python-socketio client passes as ``socketio_path`` for machine ``name``."""
        return f"m/{name}/socket.io"

    def start(self, timeout: float = 300) -> FleetProcess:
        self._process.start(self._ready, timeout, poll=0.5)
        return self

    def _ready(self) -> str | None:
        reply = httpx.get(self.url + "/health", timeout=5)
        return None if reply.status_code == 200 else f"health: {reply.text[:300]}"

    @property
    def pid(self) -> int | None:
        return self._process.pid

    @property
    def running(self) -> bool:
        return self._process.running

    def stop(self, timeout: float = 60) -> None:
        self._process.stop(timeout)

    def log_tail(self, lines: int = 40) -> str:
        return self._process.log_tail(lines)

    def __enter__(self) -> FleetProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
