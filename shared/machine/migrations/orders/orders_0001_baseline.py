"""orders: the baseline, the schema of main on 2026-12-07 (e59404d) before Alembic.

A database made before Alembic has some or all of these tables already (and no version
table): the baseline creates the missing ones and leaves the others and their rows alone.
Rendered from that day's models by Alembic's autogenerate renderer.

Revision ID: orders_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "orders_0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "machine_orders" not in existing:
        op.create_table(
            "machine_orders",
            sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("id", sa.String(length=64), nullable=False),
            sa.Column("kind", sa.String(length=16), nullable=False),
            sa.Column("product", sa.String(length=64), nullable=False),
            sa.Column("customer", sa.String(length=64), nullable=True),
            sa.Column("price", sa.BigInteger(), nullable=False),
            sa.Column("address", sa.String(length=81), nullable=False),
            sa.Column("state", sa.String(length=32), nullable=False),
            sa.Column("message", sa.String(length=300), nullable=False),
            sa.Column("created_at", sa.Float(), nullable=False),
            sa.Column("deadline", sa.Float(), nullable=True),
            sa.Column("paid_at", sa.Float(), nullable=True),
            sa.Column("finished_at", sa.Float(), nullable=True),
            sa.Column("payout_address", sa.String(length=81), nullable=True),
            sa.Column("payout_value", sa.BigInteger(), nullable=True),
            sa.Column("payout_started", sa.Boolean(), nullable=False),
            sa.Column("payout_tail", sa.String(length=81), nullable=True),
            sa.PrimaryKeyConstraint("seq"),
        )
        op.create_index(op.f("ix_machine_orders_id"), "machine_orders", ["id"], unique=True)
        op.create_index(op.f("ix_machine_orders_state"), "machine_orders", ["state"], unique=False)


def downgrade() -> None:
    op.drop_table("machine_orders")
