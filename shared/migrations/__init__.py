"""The one place that creates and upgrades database schemas: Alembic, one store at a time.

A *store* is a set of tables one module owns (the wallet's, the lock's, the grid's books …)
with its migration scripts in a directory beside its models. Several stores often share one
database (a robot's file holds its orders, its wallet, its channel node), so every store
keeps its own version table, ``alembic_version_<name>``, and its migrations touch only its
own tables: the wallet's schema moves on in every database the wallet lives in, whatever
else is there. All stores run through one environment (``shared/migrations/env.py``).

Services call :func:`upgrade` where they used to call ``create_all``::

    upgrade(engine, STORE)          # STORE = Store("lock", Path(...)/"migrations", Base.metadata)

A database made before Alembic (no version table) is upgraded from the start: each store's
first revision, its *baseline*, creates the tables that are missing and leaves existing
ones (with their rows) alone, then brings older layouts up to the baseline (the lock's
``tools`` without ``device_prefix``, a wallet without address reservations).

Concurrent starts are safe: on PostgreSQL the upgrade holds an advisory lock for its
transaction, on SQLite it runs in one ``BEGIN IMMEDIATE`` transaction (foreign keys off,
checked before commit, as sqlite.org's table-rebuild procedure asks); the second process
then finds the store at head and does nothing.

The same migrations run from the command line with the ``alembic.ini`` at the repository
root, one section per store (docs/architecture.md, "Schemas and migrations")::

    uv run alembic -n lock -x url=sqlite:///data/lock.sqlite upgrade head
"""

from __future__ import annotations

import functools
import importlib
import logging.config
import threading
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection, Engine

__all__ = [
    "ENVIRONMENT",
    "Store",
    "config",
    "current",
    "head",
    "load_store",
    "option",
    "report",
    "run_environment",
    "upgrade",
]

# env.py and script.py.mako: the one environment every store runs through.
ENVIRONMENT = Path(__file__).parent

_one_at_a_time = threading.Lock()


@dataclass(frozen=True)
class Store:
    """A set of tables with its own migrations and version table.

    ``prefixes``: the table names the store owns when its metadata is shared with other
    stores (the energy services' ``EnergyBase``); without them it owns every table of
    ``metadata``.
    """

    name: str
    versions: Path
    metadata: MetaData
    prefixes: tuple[str, ...] = field(default=())
    # Modules that declare the store's models on a shared metadata, imported before it
    # is compared (a process that needs only some of them imports only those).
    models: tuple[str, ...] = field(default=())

    @property
    def version_table(self) -> str:
        return f"alembic_version_{self.name}"

    def owns(self, table: str) -> bool:
        if self.prefixes:
            return table.startswith(self.prefixes)
        return table in self.metadata.tables

    def include_name(self, name: str | None, type_: str, _parents: Any) -> bool:
        """Alembic's filter: other stores' tables in the same database are not ours."""
        return type_ != "table" or name is None or self.owns(name)

    def target_metadata(self) -> MetaData:
        """The store's tables as the models declare them (what ``head`` must equal)."""
        for module in self.models:
            importlib.import_module(module)
        if not self.prefixes:
            return self.metadata
        own = MetaData()
        own.naming_convention = self.metadata.naming_convention
        for table in self.metadata.sorted_tables:
            if self.owns(table.name):
                table.to_metadata(own)
        return own


def load_store(path: str) -> Store:
    """``"services.lock.db:STORE"`` -> that Store (the alembic.ini sections name theirs)."""
    module, _, attribute = path.partition(":")
    store = getattr(importlib.import_module(module), attribute)
    if not isinstance(store, Store):
        raise TypeError(f"{path} is not a shared.migrations.Store")
    return store


def config(store: Store, **attributes: Any) -> Config:
    """An Alembic config for ``store`` built in code (the image ships no alembic.ini)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(ENVIRONMENT))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", str(store.versions))
    cfg.attributes["store"] = store
    cfg.attributes.update(attributes)
    return cfg


def head(store: Store) -> str | None:
    return ScriptDirectory.from_config(config(store)).get_current_head()


@functools.cache
def _head_of(store: Store, _files: tuple[tuple[str, int], ...]) -> str | None:
    return head(store)


def _head_now(store: Store) -> str | None:
    """:func:`head`, remembered while the store's revision files stay as they are."""
    files = tuple(
        sorted((path.name, path.stat().st_mtime_ns) for path in store.versions.glob("*.py"))
    )
    return _head_of(store, files)


def current(engine: Engine, store: Store) -> str | None:
    """The store's revision in ``engine``'s database (None: never migrated)."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": store.version_table})
        return context.get_current_revision()


def upgrade(
    engine: Engine, store: Store, *, options: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Bring ``store``'s tables in ``engine``'s database to the newest revision.

    ``options`` are values migrations may need (the lock's MQTT root); returns what the
    migrations reported with :func:`report` (e.g. how many rows they converted).
    """
    results: dict[str, Any] = {}
    if current(engine, store) == _head_now(store):
        # At head already (every start after the first): nothing to run, and Alembic's
        # own upgrade would still load the environment and every revision file, ~50 ms
        # of CPU per store (a fleet starts hundreds; issue 22).
        return results
    cfg = config(store, engine=engine, options=dict(options or {}), results=results)
    # Alembic runs a migration through module-level proxies (alembic.context, alembic.op):
    # one upgrade at a time per process. Other processes wait in _migrating.
    with _one_at_a_time:
        command.upgrade(cfg, "head")
    return results


# -- inside migrations ------------------------------------------------------------------------


def option(name: str, default: str) -> str:
    """A value given to :func:`upgrade` (``options``) or on the command line (``-x name=``)."""
    from alembic import context

    given = context.config.attributes.get("options", {})
    if name in given:
        return str(given[name])
    return str(context.get_x_argument(as_dictionary=True).get(name, default))


def report(name: str, value: Any) -> None:
    """Hand ``value`` back to the caller of :func:`upgrade` (printed on the command line)."""
    from alembic import context

    results = context.config.attributes.get("results")
    if results is not None:
        results[name] = value
    else:
        print(f"{name}={value}")


# -- env.py -----------------------------------------------------------------------------------


def run_environment() -> None:
    """The body of env.py: run the store's migrations on its database, one at a time."""
    from alembic import context

    cfg = context.config
    store: Store | None = cfg.attributes.get("store")
    if store is None:  # the alembic CLI: the store is named in its alembic.ini section
        store = load_store(cfg.get_main_option("store") or "")
        if cfg.config_file_name is not None:
            logging.config.fileConfig(cfg.config_file_name, disable_existing_loggers=False)
    engine: Engine | None = cfg.attributes.get("engine")
    owned = engine is None
    if engine is None:
        from shared.db import make_engine

        x_args = context.get_x_argument(as_dictionary=True)
        url = x_args.get("url") or cfg.get_main_option("sqlalchemy.url")
        if not url:
            raise SystemExit("name the database: alembic -n STORE -x url=URL upgrade head")
        engine = make_engine(url)
    if context.is_offline_mode():
        raise SystemExit("offline (--sql) migrations are not supported; give -x url=")
    try:
        with _migrating(engine, store) as conn:
            context.configure(
                connection=conn,
                # Only autogenerate and check compare with the models; a service's start
                # need not import every module of a shared metadata (the energy store's).
                target_metadata=store.target_metadata() if cfg.cmd_opts is not None else None,
                version_table=store.version_table,
                include_name=store.include_name,
                render_as_batch=conn.dialect.name == "sqlite",
                compare_type=True,
                # _migrating holds one transaction around all of it, SQLite's included.
                transactional_ddl=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        if owned:
            engine.dispose()


@contextmanager
def _migrating(engine: Engine, store: Store) -> Iterator[Connection]:
    """A connection in one transaction that only this migrator of ``store`` holds."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            yield from _sqlite_transaction(conn)
            return
        if conn.dialect.name == "postgresql":
            # Held until commit: a second process waits, then finds the store at head.
            key = zlib.crc32(store.version_table.encode())
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        try:
            yield conn
            conn.commit()
        except BaseException:
            conn.rollback()
            raise


def _sqlite_transaction(conn: Connection) -> Iterator[Connection]:
    """pysqlite begins no transaction before DDL; take one ourselves, foreign keys off."""
    raw = conn.connection.driver_connection
    before = raw.isolation_level  # type: ignore[union-attr]
    raw.isolation_level = None  # type: ignore[union-attr]  # we issue BEGIN/COMMIT
    enforced = conn.exec_driver_sql("PRAGMA foreign_keys").scalar()
    try:
        # Outside any transaction, or SQLite ignores it (sqlite.org "ALTER TABLE", step 1).
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield conn
            broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"migration broke foreign keys: {broken[:5]}")
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
    finally:
        conn.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if enforced else 'OFF'}")
        conn.commit()
        raw.isolation_level = before  # type: ignore[union-attr]
