"""energy: the baseline, the schema of main on 2026-12-07 (e59404d) before Alembic.

A database made before Alembic has some or all of these tables already (and no version
table): the baseline creates the missing ones and leaves the others and their rows alone.
Rendered from that day's models by Alembic's autogenerate renderer.

Revision ID: energy_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "energy_0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "energy_owned_channels" not in existing:
        op.create_table(
            "energy_owned_channels",
            sa.Column("name", sa.String(length=256), nullable=False),
            sa.Column("root", sa.String(length=81), nullable=False),
            sa.Column("side_key", sa.String(length=81), nullable=False),
            sa.Column("seed", sa.String(length=81), nullable=False),
            sa.Column("start", sa.Integer(), nullable=False),
            sa.Column("leaf_index", sa.Integer(), nullable=False),
            sa.Column("next_root", sa.String(length=81), nullable=True),
            sa.Column("published", sa.Integer(), nullable=False),
            sa.Column("closed", sa.Boolean(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("name"),
        )
    if "energy_participant" not in existing:
        op.create_table(
            "energy_participant",
            sa.Column("channel", sa.String(length=64), nullable=False),
            sa.Column("registration_id", sa.String(length=256), nullable=False),
            sa.Column("last_slice_end", sa.BigInteger(), nullable=True),
            sa.Column("slices_published", sa.Integer(), nullable=False),
            sa.Column("registered_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("retired", sa.Boolean(), nullable=False),
            sa.Column("answer_root", sa.String(length=81), nullable=True),
            sa.Column("answer_side_key", sa.String(length=81), nullable=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("channel"),
        )
    if "energy_reader_positions" not in existing:
        op.create_table(
            "energy_reader_positions",
            sa.Column("registration_id", sa.String(length=256), nullable=False),
            sa.Column("root", sa.String(length=81), nullable=False),
            sa.Column("side_key", sa.String(length=81), nullable=True),
            sa.Column("next_root", sa.String(length=81), nullable=False),
            sa.Column("messages_read", sa.Integer(), nullable=False),
            sa.Column("skipped", sa.Integer(), nullable=False),
            sa.Column("closed", sa.Boolean(), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("registration_id"),
        )
    if "energy_registrations" not in existing:
        op.create_table(
            "energy_registrations",
            sa.Column("registration_id", sa.String(length=256), nullable=False),
            sa.Column("item_name", sa.String(length=256), nullable=False),
            sa.Column("item_type", sa.String(length=64), nullable=False),
            sa.Column("root", sa.String(length=81), nullable=True),
            sa.Column("side_key", sa.String(length=81), nullable=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("registration_id"),
        )
    if "energy_source_outputs" not in existing:
        op.create_table(
            "energy_source_outputs",
            sa.Column("start_time", sa.BigInteger(), nullable=False),
            sa.Column("end_time", sa.BigInteger(), nullable=False),
            sa.Column("output", sa.Float(), nullable=False),
            sa.Column("sequence", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("start_time"),
        )
    if "energy_channel_outbox" not in existing:
        op.create_table(
            "energy_channel_outbox",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("channel", sa.String(length=256), nullable=False),
            sa.Column("root", sa.String(length=81), nullable=False),
            sa.Column("address", sa.String(length=81), nullable=False),
            sa.Column("next_root", sa.String(length=81), nullable=False),
            sa.Column("payload", sa.Text(), nullable=False),
            sa.Column("attached", sa.Boolean(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(
                ["channel"],
                ["energy_owned_channels.name"],
            ),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(
            op.f("ix_energy_channel_outbox_attached"),
            "energy_channel_outbox",
            ["attached"],
            unique=False,
        )
        op.create_index(
            op.f("ix_energy_channel_outbox_channel"),
            "energy_channel_outbox",
            ["channel"],
            unique=False,
        )


def downgrade() -> None:
    op.drop_table("energy_channel_outbox")
    op.drop_table("energy_source_outputs")
    op.drop_table("energy_registrations")
    op.drop_table("energy_reader_positions")
    op.drop_table("energy_participant")
    op.drop_table("energy_owned_channels")
