"""lock: pay-per-use tools (issue 23): a tool's pricing, paid sessions and their payments.

Written by hand with the model change: ``tools`` gets ``pricing`` (``member`` for every
tool made before, which keeps seed 004's checkout flow), ``price_per_minute`` (0) and
``min_minutes`` (1); ``paid_sessions`` and ``tool_payments`` are new.

Revision ID: lock_0002
Revises: lock_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "lock_0002"
down_revision: str | None = "lock_0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column(
        "tools", sa.Column("pricing", sa.String(length=8), nullable=False, server_default="member")
    )
    op.add_column(
        "tools",
        sa.Column("price_per_minute", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.add_column(
        "tools", sa.Column("min_minutes", sa.Integer(), nullable=False, server_default="1")
    )
    op.create_table(
        "paid_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tool_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("payer", sa.String(length=500), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid", sa.BigInteger(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("minutes", sa.Float(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["tool_id"], ["tools.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_paid_sessions_tool_id"), "paid_sessions", ["tool_id"], unique=False)
    op.create_index(
        op.f("ix_paid_sessions_channel_id"), "paid_sessions", ["channel_id"], unique=False
    )
    op.create_index(op.f("ix_paid_sessions_state"), "paid_sessions", ["state"], unique=False)
    op.create_table(
        "tool_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("tool_id", sa.Integer(), nullable=True),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["paid_sessions.id"]),
        sa.ForeignKeyConstraint(["tool_id"], ["tools.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("received_id"),
    )
    op.create_index(op.f("ix_tool_payments_tool_id"), "tool_payments", ["tool_id"], unique=False)


def downgrade() -> None:
    op.drop_table("tool_payments")
    op.drop_table("paid_sessions")
    with op.batch_alter_table("tools") as batch:
        batch.drop_column("min_minutes")
        batch.drop_column("price_per_minute")
        batch.drop_column("pricing")
