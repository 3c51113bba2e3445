"""channel_agent: the baseline, the schema of main on 2026-12-07 (e59404d) before Alembic.

A database made before Alembic has some or all of these tables already (and no version
table): the baseline creates the missing ones and leaves the others and their rows alone.
Rendered from that day's models by Alembic's autogenerate renderer.

Revision ID: channel_agent_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "channel_agent_0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "agent_channels" not in existing:
        op.create_table(
            "agent_channels",
            sa.Column("channel_id", sa.String(length=64), nullable=False),
            sa.Column("state", sa.Text(), nullable=False),
            sa.Column("pending", sa.Boolean(), nullable=False),
            sa.Column("created_at", sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint("channel_id"),
        )
    if "agent_escrows" not in existing:
        op.create_table(
            "agent_escrows",
            sa.Column("address", sa.String(length=81), nullable=False),
            sa.Column("channel_id", sa.String(length=64), nullable=False),
            sa.Column("period", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("address"),
        )
        op.create_index(
            op.f("ix_agent_escrows_channel_id"), "agent_escrows", ["channel_id"], unique=False
        )
    if "agent_events" not in existing:
        op.create_table(
            "agent_events",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("channel_id", sa.String(length=64), nullable=False),
            sa.Column("milestone", sa.Integer(), nullable=False),
            sa.Column("period", sa.Integer(), nullable=False),
            sa.Column("kind", sa.String(length=32), nullable=False),
            sa.Column("accepted", sa.Boolean(), nullable=False),
            sa.Column("reason", sa.String(length=64), nullable=False),
            sa.Column("bundle", sa.String(length=81), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(
            op.f("ix_agent_events_channel_id"), "agent_events", ["channel_id"], unique=False
        )
    if "agent_meta" not in existing:
        op.create_table(
            "agent_meta",
            sa.Column("key", sa.String(length=64), nullable=False),
            sa.Column("value", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("key"),
        )
    if "agent_payouts" not in existing:
        op.create_table(
            "agent_payouts",
            sa.Column("escrow", sa.String(length=81), nullable=False),
            sa.Column("channel_id", sa.String(length=64), nullable=False),
            sa.Column("period", sa.Integer(), nullable=False),
            sa.Column("settlement", sa.Text(), nullable=False),
            sa.Column("trytes", sa.Text(), nullable=False),
            sa.Column("bundle", sa.String(length=81), nullable=False),
            sa.Column("submitted", sa.Boolean(), nullable=False),
            sa.PrimaryKeyConstraint("escrow"),
        )
        op.create_index(
            op.f("ix_agent_payouts_channel_id"), "agent_payouts", ["channel_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("agent_payouts")
    op.drop_table("agent_meta")
    op.drop_table("agent_events")
    op.drop_table("agent_escrows")
    op.drop_table("agent_channels")
