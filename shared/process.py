"""Start a project process and wait until it is ready: the one helper behind the scenario
runner (services/scenario), ``tests/support/devnet.py`` (the devnet) and
``tests/integration/robot/machines.py`` (robots, providers, the dashboard).

Usage::

    process = ManagedProcess("wind", ["-m", "services.wind"], env=env, log_path=tmp / "wind.log")
    process.start(ready=lambda: None if httpx.get(url + "/health").is_success else "starting")
    ...
    process.stop()      # SIGTERM, then SIGKILL if it does not exit in time
    process.kill()      # SIGKILL: the crash case

Start-up waits up to 120 s by default: loading the hashing kernels takes a second alone
but far longer on a CI machine that runs many tests at once.
``ready`` returns ``None`` once the process is ready, or a short reason why not yet; an
``httpx.HTTPError``, ``OSError`` or ``ValueError`` it raises counts as "not yet" too. The
process writes stdout and stderr to ``log_path`` (appended across restarts); its tail is in
every start-up error.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

import httpx

__all__ = ["REPO_ROOT", "ManagedProcess", "free_port"]

REPO_ROOT = Path(__file__).resolve().parents[1]

# What a readiness probe may raise while the process is still coming up.
_NOT_YET = (httpx.HTTPError, OSError, ValueError)


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ManagedProcess:
    """``python <args>`` run from the repository root, output in ``log_path``."""

    def __init__(
        self,
        name: str,
        args: Sequence[str],
        *,
        env: Mapping[str, str],
        log_path: Path,
        inherit_env: bool = True,
    ) -> None:
        self.name = name
        self.args = list(args)
        self.env = dict(env)
        self.log_path = Path(log_path)
        self.inherit_env = inherit_env
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def returncode(self) -> int | None:
        return self._process.poll() if self._process is not None else None

    def start(
        self, ready: Callable[[], str | None], timeout: float = 120, poll: float = 0.1
    ) -> None:
        """Spawn the process and return once ``ready()`` says so (RuntimeError otherwise:
        it exited, or it was not ready in ``timeout`` seconds and was killed)."""
        if self.running:
            raise RuntimeError(f"{self.name} already running")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.env} if self.inherit_env else dict(self.env)
        env["PYTHONUNBUFFERED"] = "1"
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in _reap
        self._process = subprocess.Popen(
            [sys.executable, *self.args],
            cwd=REPO_ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._reap()
                raise RuntimeError(
                    f"{self.name} exited with {self._process.returncode} before it was ready\n"
                    f"{self.log_tail()}"
                )
            try:
                reason = ready()
            except _NOT_YET as error:
                reason = repr(error)
            if reason is None:
                return
            last = reason
            time.sleep(poll)
        self.kill()
        raise RuntimeError(f"{self.name} not ready after {timeout}s ({last})\n{self.log_tail()}")

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM and wait (SIGKILL if it does not exit in ``timeout``)."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(10)
        self._reap()

    def kill(self) -> None:
        """SIGKILL and wait: the crash case."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(10)
        self._reap()

    def _reap(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_text()
        return "\n".join(text.splitlines()[-lines:]) if text else "(no log)"
