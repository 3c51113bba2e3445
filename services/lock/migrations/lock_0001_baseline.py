"""lock: the baseline, the schema of main on 2026-12-07 (e59404d) before Alembic.

A database made before Alembic has some or all of these tables already (and no version
table): the baseline creates the missing ones and leaves the others and their rows alone.
Rendered from that day's models by Alembic's autogenerate renderer; the tables are
listed in the ``.toml`` beside this file (shared/migrations/baseline.py).

A controller made before seed 004's per-device prefixes has ``tools`` without
``device_prefix`` (a tool's device lived at ``{root}/device/{id}/machine-access``): the
baseline gives each tool ``{MQTT root}/{device_id}`` (option ``mqtt_root``, the
controller's ``MQTT_PREFIX``) and makes ``(device_prefix, lock_index)`` unique instead of
``(device_id, lock_index)``, as the hand-written ``create_schema`` did until Alembic; it
reports how many tools it converted (``tools_migrated``).

Revision ID: lock_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from shared.migrations import option, report
from shared.migrations.baseline import Baseline

revision = "lock_0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


BASELINE = Baseline(__file__)


def upgrade() -> None:
    existing = BASELINE.create_missing()
    if "tools" in existing:
        _add_device_prefix()


def _add_device_prefix() -> None:
    """Tools of before seed 004's per-device prefixes get ``{MQTT root}/{device_id}``."""
    bind = op.get_bind()
    if "device_prefix" in {c["name"] for c in sa.inspect(bind).get_columns("tools")}:
        return
    root = option("mqtt_root", "machine-economy")
    fill = "device_prefix = :root || '/' || device_id"
    if bind.dialect.name == "sqlite":
        # SQLite cannot change a table's constraints: copy into a new table and swap
        # (sqlite.org's "making other kinds of table schema changes"; the environment
        # turned foreign keys off and checks them before it commits).
        op.execute("DROP TABLE IF EXISTS tools_new")
        BASELINE.create("tools", name="tools_new")
        copied = bind.execute(
            sa.text(
                "INSERT INTO tools_new (id, name, description, device_id, device_prefix,"
                " lock_index, circle_id) SELECT id, name, description, device_id,"
                " :root || '/' || device_id, lock_index, circle_id FROM tools"
            ),
            {"root": root},
        )
        op.drop_table("tools")
        op.rename_table("tools_new", "tools")
    else:  # PostgreSQL: DDL is transactional, all or nothing with the rest
        op.add_column("tools", sa.Column("device_prefix", sa.String(length=200), nullable=True))
        copied = bind.execute(sa.text(f"UPDATE tools SET {fill}"), {"root": root})
        op.alter_column("tools", "device_prefix", nullable=False)
        op.execute("ALTER TABLE tools DROP CONSTRAINT IF EXISTS tools_device_id_lock_index_key")
        op.create_unique_constraint(None, "tools", ["device_prefix", "lock_index"])
    report("tools_migrated", int(copied.rowcount or 0))


def downgrade() -> None:
    BASELINE.drop()
