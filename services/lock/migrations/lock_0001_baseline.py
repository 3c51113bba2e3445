"""lock: the baseline, the schema of main on 2026-12-07 (e59404d) before Alembic.

A database made before Alembic has some or all of these tables already (and no version
table): the baseline creates the missing ones and leaves the others and their rows alone.
Rendered from that day's models by Alembic's autogenerate renderer.

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

revision = "lock_0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "accounts" not in existing:
        op.create_table(
            "accounts",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("username", sa.String(length=64), nullable=False),
            sa.Column("password_hash", sa.String(length=200), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("username"),
        )
    if "circles" not in existing:
        op.create_table(
            "circles",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("name", sa.String(length=64), nullable=False),
            sa.Column("description", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("name"),
        )
    if "circle_members" not in existing:
        op.create_table(
            "circle_members",
            sa.Column("circle_id", sa.Integer(), nullable=False),
            sa.Column("account_id", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(
                ["account_id"],
                ["accounts.id"],
            ),
            sa.ForeignKeyConstraint(
                ["circle_id"],
                ["circles.id"],
            ),
            sa.PrimaryKeyConstraint("circle_id", "account_id"),
        )
    if "memberships" not in existing:
        op.create_table(
            "memberships",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("account_id", sa.Integer(), nullable=False),
            sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(
                ["account_id"],
                ["accounts.id"],
            ),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(
            op.f("ix_memberships_account_id"), "memberships", ["account_id"], unique=False
        )
    if "tokens" not in existing:
        op.create_table(
            "tokens",
            sa.Column("token_hash", sa.String(length=64), nullable=False),
            sa.Column("account_id", sa.Integer(), nullable=False),
            sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(
                ["account_id"],
                ["accounts.id"],
            ),
            sa.PrimaryKeyConstraint("token_hash"),
        )
    if "tools" not in existing:
        _create_tools("tools")
    if "checkouts" not in existing:
        op.create_table(
            "checkouts",
            sa.Column("tool_id", sa.Integer(), nullable=False),
            sa.Column("account_id", sa.Integer(), nullable=False),
            sa.Column("checked_out_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("request_id", sa.String(length=64), nullable=False),
            sa.ForeignKeyConstraint(
                ["account_id"],
                ["accounts.id"],
            ),
            sa.ForeignKeyConstraint(
                ["tool_id"],
                ["tools.id"],
            ),
            sa.PrimaryKeyConstraint("tool_id"),
        )
    if "events" not in existing:
        op.create_table(
            "events",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("kind", sa.String(length=32), nullable=False),
            sa.Column("account_id", sa.Integer(), nullable=True),
            sa.Column("tool_id", sa.Integer(), nullable=True),
            sa.Column("request_id", sa.String(length=64), nullable=True),
            sa.Column("detail", sa.Text(), nullable=False),
            sa.ForeignKeyConstraint(
                ["account_id"],
                ["accounts.id"],
            ),
            sa.ForeignKeyConstraint(
                ["tool_id"],
                ["tools.id"],
            ),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(op.f("ix_events_at"), "events", ["at"], unique=False)

    if "tools" in existing:
        _add_device_prefix(existing)


def _create_tools(name: str) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("device_prefix", sa.String(length=200), nullable=False),
        sa.Column("lock_index", sa.Integer(), nullable=False),
        sa.Column("circle_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["circle_id"], ["circles.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("device_prefix", "lock_index"),
        sa.UniqueConstraint("name"),
    )


def _add_device_prefix(existing: set[str]) -> None:
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
        _create_tools("tools_new")
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
    op.drop_table("events")
    op.drop_table("checkouts")
    op.drop_table("tools")
    op.drop_table("tokens")
    op.drop_table("memberships")
    op.drop_table("circle_members")
    op.drop_table("circles")
    op.drop_table("accounts")
