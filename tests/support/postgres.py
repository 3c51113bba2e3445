"""A throwaway PostgreSQL server for tests (Debian's ``postgresql`` package).

The server is started once per test session in a temporary directory, on a free port,
with fsync off (a test database needs no durability), and stopped at the end. Each test
that asks for ``postgres_url`` gets a database of its own, dropped afterwards, so tests
never see each other's rows.

    def test_two_writers(postgres_url: str) -> None:
        engine = make_engine(postgres_url)   # postgresql+psycopg://...

Set ``TEST_POSTGRES_URL`` (a server URL whose user may CREATE DATABASE) to use an existing
server instead. Without PostgreSQL the tests are skipped with the reason, except under
CI (``CI=true``), where a missing server is an error: CI must test PostgreSQL.

The stateful integration tests run on both databases through ``databases`` (module scope,
for module-scoped service fixtures) or ``database_url`` (one test): each is parametrised
``sqlite``/``postgres``, and the postgres runs carry the ``postgres`` marker, so
``-m "not postgres"`` leaves them out for a quick local run.

    def test_restart(databases: Databases) -> None:
        env = {"DATABASE_URL": databases.url("robot-1")}   # one database per process
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.devnet import free_port

__all__ = [
    "BACKENDS",
    "SQLITE_ONLY",
    "Databases",
    "PostgresServer",
    "database_url",
    "databases",
    "fresh_database",
    "postgres_server",
    "postgres_url",
]

_USER = "postgres"


def _bin_dir() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin that has initdb (or initdb on PATH)."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0,
    )
    return versions[-1].parent if versions else None


class PostgresServer:
    """``initdb`` + ``postgres`` as a child process; ``url(database)`` for SQLAlchemy."""

    def __init__(self, root: Path) -> None:
        bin_dir = _bin_dir()
        if bin_dir is None:
            raise FileNotFoundError("PostgreSQL is not installed (apt-get install postgresql)")
        self.bin_dir = bin_dir
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        # initdb and postgres refuse to run as root; run them as Debian's postgres user.
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            self._as_user = ["runuser", "-u", _USER, "--"]
            shutil.chown(root, user=_USER)

    def _run(self, *args: str) -> None:
        subprocess.run(
            [*self._as_user, *args], check=True, capture_output=True, timeout=120, cwd=self.root
        )

    def start(self) -> PostgresServer:
        self._run(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            _USER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        log = (self.root / "postgres.log").open("wb")
        self.process = subprocess.Popen(
            [
                *self._as_user,
                str(self.bin_dir / "postgres"),
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                "-k",
                str(self.root),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.root,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    "postgres exited at start:\n" + (self.root / "postgres.log").read_text()[-2000:]
                )
            if self._ready():
                return self
            time.sleep(0.2)
        raise TimeoutError("postgres did not accept connections within 60 s")

    def _ready(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.admin_dsn(), connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def admin_dsn(self, database: str = "postgres") -> str:
        return f"postgresql://{_USER}@127.0.0.1:{self.port}/{database}"

    def url(self, database: str) -> str:
        """A SQLAlchemy URL (psycopg 3 driver) for ``database`` on this server."""
        return f"postgresql+psycopg://{_USER}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: smart shutdown
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None


def _server_url_from_env() -> str | None:
    return os.environ.get("TEST_POSTGRES_URL") or None


@contextlib.contextmanager
def fresh_database(admin_dsn: str, sqlalchemy_base: str) -> Iterator[str]:
    """CREATE a uniquely named database, yield its SQLAlchemy URL, DROP it afterwards."""
    import psycopg

    name = "test_" + uuid.uuid4().hex[:16]
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{sqlalchemy_base}/{name}"
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(f"no PostgreSQL: {reason}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[tuple[str, str]]:
    """(admin DSN, SQLAlchemy base URL without a database) of a running server."""
    configured = _server_url_from_env()
    if configured:
        base = configured.rsplit("/", 1)[0]
        dsn = configured.replace("postgresql+psycopg://", "postgresql://")
        yield dsn, base.replace("postgresql://", "postgresql+psycopg://")
        return
    root = Path(tempfile.mkdtemp(prefix="pg-test-"))
    try:
        server = PostgresServer(root)
    except FileNotFoundError as error:
        _unavailable(str(error))
        return
    try:
        server.start()
    except (OSError, RuntimeError, TimeoutError, subprocess.CalledProcessError) as error:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
        _unavailable(f"could not start a server: {error}")
        return
    try:
        yield server.admin_dsn(), server.url("").rstrip("/")
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: tuple[str, str]) -> Iterator[str]:
    """A SQLAlchemy URL of an empty database of its own for this test."""
    admin_dsn, base = postgres_server
    with fresh_database(admin_dsn, base) as url:
        yield url


# -- the same tests on SQLite and PostgreSQL --------------------------------------------------
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


# A module whose slow scenario (real payments, an audit, a PoW-heavy sweep) says nothing
# about the database beyond what a module run on both already proves for the same stores
# runs on SQLite only: ``pytestmark = [..., SQLITE_ONLY]``. It overrides the parameters of
# ``databases`` (a direct parametrisation wins over a fixture's own), module by module.
# docs/testing.md lists which modules keep the PostgreSQL run and why.
SQLITE_ONLY = pytest.mark.parametrize("databases", ["sqlite"], indirect=True, scope="module")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "postgres: the PostgreSQL run of a test parametrised over both databases"
    )


class Databases:
    """Empty databases on one backend: ``url(name)`` makes (once) and returns one per name.

    SQLite: a file ``<name>.db`` in a temporary directory. PostgreSQL: a database of its own
    on the session's server, dropped by ``close()``. Every process of a test gets its own
    name, as every service has its own database in production.
    """

    def __init__(self, backend: str, directory: Path, server: tuple[str, str] | None) -> None:
        self.backend = backend
        self.directory = directory
        self._server = server
        self._urls: dict[str, str] = {}
        self._stack = contextlib.ExitStack()

    def url(self, name: str) -> str:
        if name not in self._urls:
            if self._server is None:
                path = self.directory / f"{name.replace(' ', '-')}.db"
                self._urls[name] = f"sqlite:///{path}"
            else:
                admin_dsn, base = self._server
                self._urls[name] = self._stack.enter_context(fresh_database(admin_dsn, base))
        return self._urls[name]

    def close(self) -> None:
        self._stack.close()


def _databases(request: pytest.FixtureRequest, directory: Path) -> Databases:
    backend = str(request.param)
    server = request.getfixturevalue("postgres_server") if backend == "postgres" else None
    return Databases(backend, directory, server)


@pytest.fixture(scope="module", params=BACKENDS)
def databases(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Databases]:
    """SQLite or PostgreSQL databases for a whole module (its tests run once per backend)."""
    made = _databases(request, tmp_path_factory.mktemp("databases"))
    try:
        yield made
    finally:
        made.close()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """One empty database for one test: a SQLite file, then a PostgreSQL database."""
    made = _databases(request, tmp_path / "databases")
    made.directory.mkdir(parents=True, exist_ok=True)
    try:
        yield made.url("test")
    finally:
        made.close()
