"""consumer: the baseline, the schema of main on 2026-12-07 (e59404d) before Alembic.

A database made before Alembic has some or all of these tables already (and no version
table): the baseline creates the missing ones and leaves the others and their rows alone.
Rendered from that day's models by Alembic's autogenerate renderer.

Revision ID: consumer_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "consumer_0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "consumer_payment_requests" not in existing:
        op.create_table(
            "consumer_payment_requests",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("owed", sa.BigInteger(), nullable=False),
            sa.Column("usage", sa.Float(), nullable=False),
            sa.Column("address", sa.String(length=256), nullable=False),
            sa.Column("state", sa.String(length=16), nullable=False),
            sa.Column("amount", sa.BigInteger(), nullable=True),
            sa.Column("bundle", sa.String(length=81), nullable=True),
            sa.Column("tail", sa.String(length=81), nullable=True),
            sa.Column("reason", sa.String(length=256), nullable=True),
            sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(
            op.f("ix_consumer_payment_requests_state"),
            "consumer_payment_requests",
            ["state"],
            unique=False,
        )
    if "consumer_usage" not in existing:
        op.create_table(
            "consumer_usage",
            sa.Column("start_time", sa.BigInteger(), nullable=False),
            sa.Column("end_time", sa.BigInteger(), nullable=False),
            sa.Column("usage", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("start_time"),
        )


def downgrade() -> None:
    op.drop_table("consumer_usage")
    op.drop_table("consumer_payment_requests")
