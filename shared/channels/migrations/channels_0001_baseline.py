"""channels: the baseline, the schema of main on 2026-12-07 (e59404d) before Alembic.

A database made before Alembic has some or all of these tables already (and no version
table): the baseline creates the missing ones and leaves the others and their rows alone.
Rendered from that day's models by Alembic's autogenerate renderer.

Revision ID: channels_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "channels_0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "channel_channels" not in existing:
        op.create_table(
            "channel_channels",
            sa.Column("channel_id", sa.String(length=64), nullable=False),
            sa.Column("definition", sa.JSON(), nullable=False),
            sa.Column("role", sa.String(length=1), nullable=False),
            sa.Column("peer_url", sa.String(length=500), nullable=False),
            sa.Column("status", sa.String(length=20), nullable=False),
            sa.Column("period", sa.Integer(), nullable=False),
            sa.Column("deposited_by_me", sa.BigInteger(), nullable=False),
            sa.Column("deposited_by_peer", sa.BigInteger(), nullable=False),
            sa.Column("deposits_pending", sa.BigInteger(), nullable=False),
            sa.Column("spent_by_me", sa.BigInteger(), nullable=False),
            sa.Column("my_seq", sa.Integer(), nullable=False),
            sa.Column("received", sa.BigInteger(), nullable=False),
            sa.Column("peer_seq", sa.Integer(), nullable=False),
            sa.Column("evidence", sa.JSON(), nullable=True),
            sa.Column("payout_address", sa.String(length=81), nullable=True),
            sa.Column("is_peer_ready", sa.Boolean(), nullable=False),
            sa.Column("registered", sa.Boolean(), nullable=False),
            sa.Column("close_requested", sa.Boolean(), nullable=False),
            sa.Column("commands", sa.JSON(), nullable=False),
            sa.Column("settlements", sa.JSON(), nullable=False),
            sa.Column("agent_status", sa.String(length=20), nullable=False),
            sa.Column("agent_milestone", sa.Integer(), nullable=False),
            sa.Column("created_at", sa.Float(), nullable=False),
            sa.Column("updated_at", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("channel_id"),
        )
    if "channel_config" not in existing:
        op.create_table(
            "channel_config",
            sa.Column("key", sa.String(length=64), nullable=False),
            sa.Column("value", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("key"),
        )
    if "channel_payments_received" not in existing:
        op.create_table(
            "channel_payments_received",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("channel_id", sa.String(length=64), nullable=False),
            sa.Column("period", sa.Integer(), nullable=False),
            sa.Column("seq", sa.Integer(), nullable=False),
            sa.Column("amount", sa.BigInteger(), nullable=False),
            sa.Column("package", sa.JSON(), nullable=False),
            sa.Column("answered", sa.Boolean(), nullable=False),
            sa.Column("response", sa.JSON(), nullable=True),
            sa.Column("error", sa.Text(), nullable=True),
            sa.Column("front", sa.String(length=64), nullable=False),
            sa.Column("created_at", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("channel_id", "period", "seq"),
        )
        op.create_index(
            op.f("ix_channel_payments_received_channel_id"),
            "channel_payments_received",
            ["channel_id"],
            unique=False,
        )
    if "channel_payments_sent" not in existing:
        op.create_table(
            "channel_payments_sent",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("channel_id", sa.String(length=64), nullable=False),
            sa.Column("period", sa.Integer(), nullable=False),
            sa.Column("seq", sa.Integer(), nullable=False),
            sa.Column("amount", sa.BigInteger(), nullable=False),
            sa.Column("package", sa.JSON(), nullable=False),
            sa.Column("message", sa.JSON(), nullable=True),
            sa.Column("status", sa.String(length=10), nullable=False),
            sa.Column("response", sa.JSON(), nullable=True),
            sa.Column("error", sa.Text(), nullable=True),
            sa.Column("created_at", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("channel_id", "period", "seq"),
        )
        op.create_index(
            op.f("ix_channel_payments_sent_channel_id"),
            "channel_payments_sent",
            ["channel_id"],
            unique=False,
        )


def downgrade() -> None:
    op.drop_table("channel_payments_sent")
    op.drop_table("channel_payments_received")
    op.drop_table("channel_config")
    op.drop_table("channel_channels")
