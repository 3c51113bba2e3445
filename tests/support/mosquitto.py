"""A real Mosquitto broker for tests: free port, generated config, password file and ACL.

Usage::

    with MosquittoProcess(users={"alice": "pw"}, acl=render_acl("p")) as broker:
        broker.url("alice", "pw")  # mqtt://alice:pw@127.0.0.1:PORT

Anonymous clients are refused unless ``allow_anonymous=True``. :meth:`restart` brings the
broker back on the same port (without persistence, retained messages are gone, as after a
real broker crash without a persistence file). Everything lives in a temp dir that is removed
on :meth:`stop` unless a directory was given.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

from tests.support.process import free_port

__all__ = ["MOSQUITTO", "MOSQUITTO_PASSWD", "MosquittoProcess", "free_port", "mosquitto_available"]

MOSQUITTO = os.environ.get("MOSQUITTO_BIN", "/usr/sbin/mosquitto")
MOSQUITTO_PASSWD = os.environ.get("MOSQUITTO_PASSWD_BIN", "/usr/bin/mosquitto_passwd")


def mosquitto_available() -> bool:
    return os.access(MOSQUITTO, os.X_OK) and os.access(MOSQUITTO_PASSWD, os.X_OK)


class MosquittoProcess:
    """One mosquitto process with its own config, users and ACL."""

    def __init__(
        self,
        *,
        users: dict[str, str] | None = None,
        acl: str | None = None,
        allow_anonymous: bool = False,
        port: int | None = None,
        directory: Path | None = None,
        persistence: bool = False,
    ) -> None:
        self.users = dict(users or {})
        self.acl = acl
        self.allow_anonymous = allow_anonymous
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self._own_dir = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="mosquitto-"))
        self.persistence = persistence
        self.process: subprocess.Popen[bytes] | None = None

    # -- files -----------------------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.directory / "mosquitto.conf"

    @property
    def log_path(self) -> Path:
        return self.directory / "mosquitto.log"

    def _write_files(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        lines = [
            f"listener {self.port} {self.host}",
            f"allow_anonymous {'true' if self.allow_anonymous else 'false'}",
            f"persistence {'true' if self.persistence else 'false'}",
            f"persistence_location {self.directory}/",
            "set_tcp_nodelay true",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            # Running as root, mosquitto would switch to the 'mosquitto' user and lose access
            # to our temp dir; staying as whoever runs the tests avoids that.
            f"user {getpass.getuser()}",
        ]
        if self.users:
            passwd = self.directory / "passwd"
            passwd.write_text("".join(f"{u}:{p}\n" for u, p in self.users.items()))
            passwd.chmod(0o600)
            # -U hashes a plain user:password file in place (PBKDF2-SHA512).
            subprocess.run([MOSQUITTO_PASSWD, "-U", str(passwd)], check=True, capture_output=True)
            lines.append(f"password_file {passwd}")
        if self.acl is not None:
            acl = self.directory / "acl"
            acl.write_text(self.acl)
            lines.append(f"acl_file {acl}")
        self.config_path.write_text("\n".join(lines) + "\n")

    # -- process ---------------------------------------------------------------------------
    def start(self, timeout: float = 10.0) -> MosquittoProcess:
        if self.process is None:
            self._write_files()
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in _reap
        self.process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.config_path)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_listening(timeout)
        return self

    def _wait_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto exited early:\n{self.log_text()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection((self.host, self.port), 0.2),
            ):
                return
            time.sleep(0.02)
        raise RuntimeError(f"mosquitto did not listen on {self.port}:\n{self.log_text()}")

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def _reap(self, sig: int) -> None:
        proc = self.process
        if proc is not None and proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if getattr(self, "_log", None) is not None:
            self._log.close()
            self._log = None  # type: ignore[assignment]

    def kill(self) -> None:
        """SIGKILL the broker (a crash); start() or restart() brings it back on the same port."""
        self._reap(signal.SIGKILL)

    def restart(self, timeout: float = 10.0) -> None:
        self._reap(signal.SIGTERM)
        self.start(timeout)

    def stop(self) -> None:
        self._reap(signal.SIGTERM)
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)

    def url(self, username: str | None = None, password: str | None = None) -> str:
        if username is None:
            return f"mqtt://{self.host}:{self.port}"
        user = f"{quote(username, safe='')}:{quote(password or '', safe='')}"
        return f"mqtt://{user}@{self.host}:{self.port}"

    def __enter__(self) -> MosquittoProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
