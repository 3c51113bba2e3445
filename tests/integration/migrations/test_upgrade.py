"""Every store upgrades from a database made by main before Alembic, on SQLite and PostgreSQL.

The fixtures in data/ were made by make_fixtures.py with the code of 2026-12-07 (e59404d):
the schema its ``create_all`` calls created, three rows per table. Each test loads one
(a copy of the SQLite file, or the pg_dump through psql), upgrades every store the database
holds (through shared.migrations.upgrade, as the services do at start, or through the
``alembic`` command line with the repository's alembic.ini) and checks that

- each store is at its head revision, in its own version table;
- every row of every table is still there, unchanged (the old lock and wallet layouts get
  the values their hand-written upgrades gave: ``{root}/{device_id}``, false);
- the schema equals the models (Alembic's ``compare_metadata`` finds no difference);
- a second upgrade does nothing.
"""

from __future__ import annotations

import ast
import configparser
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, select
from sqlalchemy.engine import Engine

from shared.db import make_engine
from shared.migrations import Store, current, head, load_store, upgrade
from tests.integration.migrations.make_fixtures import DATABASES
from tests.support.postgres import Databases, _bin_dir

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
DATA = Path(__file__).parent / "data"
INI = ROOT / "alembic.ini"


def _ini() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(defaults={"here": str(ROOT)})
    parser.read(INI)
    return parser


# store name -> "module:attribute", from alembic.ini (the CLI's own registry).
STORES = {
    section: _ini()[section]["store"] for section in _ini().sections() if "store" in _ini()[section]
}


def _store(name: str) -> Store:
    return load_store(STORES[name])


def _load(databases: Databases, fixture: str, use: str) -> str:
    """A copy of ``fixture`` as main left it, in a database of its own (one per ``use``: the
    databases are the module's); its URL."""
    url = databases.url(f"{use}-{fixture}")
    if databases.backend == "sqlite":
        shutil.copyfile(DATA / f"{fixture}.sqlite", url.split("///", 1)[1])
        return url
    bin_dir = _bin_dir()
    assert bin_dir is not None, "PostgreSQL's binaries are not installed"
    psql = shutil.which("psql") or str(Path(os.path.realpath(bin_dir / "initdb")).parent / "psql")
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    subprocess.run(
        [
            psql,
            "--quiet",
            "--set",
            "ON_ERROR_STOP=1",
            "--dbname",
            dsn,
            "--file",
            str(DATA / f"{fixture}.postgres.sql"),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return url


def _rows(engine: Engine) -> dict[str, set[tuple[tuple[str, str], ...]]]:
    """Every row of every table but the version tables, as comparable (column, text) pairs."""
    meta = MetaData()
    meta.reflect(engine)
    found: dict[str, set[tuple[tuple[str, str], ...]]] = {}
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            if table.name.startswith("alembic_version"):
                continue
            found[table.name] = {
                tuple(sorted((key, repr(value)) for key, value in row.items()))
                for row in conn.execute(select(table)).mappings()
            }
    return found


def _differences(engine: Engine, store: Store) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "include_name": store.include_name,
                "compare_type": True,
                "version_table": store.version_table,
            },
        )
        return list(compare_metadata(context, store.target_metadata()))


def _without(rows: set[tuple[tuple[str, str], ...]], *columns: str) -> set[tuple[Any, ...]]:
    return {tuple(pair for pair in row if pair[0] not in columns) for row in rows}


# Money on the devnet (issue 20): wallet_0002, grid_0003, orders_0002; roles (issue 21).
ADDED_LATER: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "wallet_addresses": (("hold_until", "swept_value"), ("None", "None")),
    "grid_payments": (("late", "credit"), ("0", "0")),
    "machine_orders": (("received", "credit", "late", "swept"), ("0", "0", "0", "False")),
    # Pay-per-use (issue 23): lock_0002; every tool of before stays member-only.
    "tools": (("pricing", "price_per_minute", "min_minutes"), ("'member'", "0", "1")),
    # the declared role (issue 21, energy_0002): none for an itemType that names none
    "energy_registrations": (("role",), ("None",)),
}


def _check_upgraded(engine: Engine, fixture: str, before: dict[str, Any]) -> None:
    after = _rows(engine)
    for name in DATABASES[fixture]:
        store = _store(name)
        assert current(engine, store) == head(store), name
        assert _differences(engine, store) == [], name
    for table, rows in before.items():
        assert len(rows) == 3, table  # the fixture's rows, all of them
        if fixture == "lock-legacy" and table == "tools":
            columns, defaults = ADDED_LATER[table]
            assert _without(after[table], "device_prefix", *columns) == rows
            assert all(tuple(dict(row)[c] for c in columns) == defaults for row in after[table])
            prefixes = {dict(row)["device_prefix"] for row in after[table]}
            devices = {dict(row)["device_id"] for row in rows}
            assert prefixes == {repr(f"root/{ast.literal_eval(d)}") for d in devices}
        elif fixture == "wallet-legacy" and table == "wallet_addresses":
            added = ("reserved", "pooled", "claimed_by", "hold_until", "swept_value")
            assert _without(after[table], *added) == rows
            assert all(
                dict(row)["reserved"] == dict(row)["pooled"] == "False"
                and dict(row)["claimed_by"] == "None"
                for row in after[table]
            )
        elif table in ADDED_LATER:
            # columns a later migration added (issue 20): old rows get their defaults
            columns, defaults = ADDED_LATER[table]
            assert _without(after[table], *columns) == _without(rows, *columns), table
            assert all(tuple(dict(row)[c] for c in columns) == defaults for row in after[table]), (
                table
            )
        else:
            assert after[table] == rows, table


@pytest.fixture
def engines() -> Iterator[list[Engine]]:
    made: list[Engine] = []
    yield made
    for engine in made:
        engine.dispose()


@pytest.mark.parametrize("fixture", list(DATABASES))
def test_runner_upgrades_every_store_of_a_database_made_by_main(
    databases: Databases, fixture: str, engines: list[Engine]
) -> None:
    engine = make_engine(_load(databases, fixture, "runner"))
    engines.append(engine)
    before = _rows(engine)
    assert before, "the fixture has tables"
    for name in DATABASES[fixture]:
        assert current(engine, _store(name)) is None  # made before Alembic: no version table
    results = [
        upgrade(engine, _store(name), options={"mqtt_root": "root"}) for name in DATABASES[fixture]
    ]
    if fixture == "lock-legacy":
        assert results == [{"tools_migrated": 3}]
    _check_upgraded(engine, fixture, before)
    # A second start finds every store at head and changes nothing.
    again = [upgrade(engine, _store(name)) for name in DATABASES[fixture]]
    assert again == [{} for _ in again]
    _check_upgraded(engine, fixture, before)


@pytest.mark.parametrize("fixture", list(DATABASES))
def test_alembic_command_line_upgrades_every_store(
    databases: Databases, fixture: str, engines: list[Engine]
) -> None:
    url = _load(databases, fixture, "cli")
    engine = make_engine(url)
    engines.append(engine)
    before = _rows(engine)
    for name in DATABASES[fixture]:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "alembic",
                "-c",
                str(INI),
                "-n",
                name,
                "-x",
                f"url={url}",
                "-x",
                "mqtt_root=root",
                "upgrade",
                "head",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        assert f"Running upgrade  -> {name}_0001" in done.stderr
        if fixture == "lock-legacy":
            assert "tools_migrated=3" in done.stdout
    _check_upgraded(engine, fixture, before)


@pytest.mark.parametrize("name", sorted(STORES))
def test_empty_database_gets_the_models_schema(
    databases: Databases, name: str, engines: list[Engine]
) -> None:
    engine = make_engine(databases.url(f"empty-{name}"))
    engines.append(engine)
    store = _store(name)
    upgrade(engine, store)
    assert current(engine, store) == head(store)
    assert _differences(engine, store) == []


def test_processes_starting_at_once_upgrade_once(
    databases: Databases, engines: list[Engine]
) -> None:
    """Services sharing a database start together: one upgrades, the others wait for it.

    Three processes (each upgrading the wallet, then the channels, as a machine does) and,
    in this process, three threads at once (Alembic's proxies are module globals).
    """
    url = _load(databases, "wallet-legacy", "concurrent")
    code = (
        "import sys; from shared.db import make_engine; from shared.migrations import upgrade;"
        "from shared.iota.wallet import STORE as W; from shared.channels.node import STORE as C;"
        "e = make_engine(sys.argv[1]); upgrade(e, W); upgrade(e, C)"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, url], cwd=ROOT, stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    errors: list[BaseException] = []

    def start() -> None:
        engine = make_engine(url)
        engines.append(engine)
        try:
            upgrade(engine, _store("wallet"))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for proc in procs:
        _, stderr = proc.communicate(timeout=180)
        assert proc.returncode == 0, stderr.decode()[-3000:]
    assert errors == []
    check = make_engine(url)
    engines.append(check)
    for name in ("wallet", "channels"):
        store = _store(name)
        assert current(check, store) == head(store)
        assert _differences(check, store) == []
    with check.connect() as conn:
        assert len(conn.execute(select(_rows_table(check, "wallet_addresses"))).all()) == 3


def _rows_table(engine: Engine, name: str) -> Any:
    meta = MetaData()
    meta.reflect(engine, only=[name])
    return meta.tables[name]


def test_alembic_ini_names_every_store_and_its_scripts() -> None:
    """alembic.ini (the CLI) and the Store objects (the services) agree."""
    stores = {name for names in DATABASES.values() for name in names}
    assert set(STORES) == stores
    ini = _ini()
    for name, path in STORES.items():
        store = load_store(path)
        assert store.name == name
        assert Path(ini[name]["version_locations"]).resolve() == store.versions.resolve()
        assert Path(ini[name]["script_location"]).resolve() == ROOT / "shared" / "migrations"
        assert (store.versions / f"{name}_0001_baseline.py").is_file()


def test_no_create_all_outside_migrations() -> None:
    """Schemas change only through migrations: no ``create_all`` in the code that runs."""
    found = []
    for top in ("services", "shared", "firmware"):
        for path in (ROOT / top).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if re.search(r"\.create_all\(", line):
                    found.append(f"{path.relative_to(ROOT)}:{number}")
    assert found == []
