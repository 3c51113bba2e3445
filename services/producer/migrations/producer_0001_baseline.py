"""producer: the baseline, the schema of main on 2026-12-07 (e59404d) before Alembic.

A database made before Alembic has some or all of these tables already (and no version
table): the baseline creates the missing ones and leaves the others and their rows alone.
Rendered from that day's models by Alembic's autogenerate renderer.

Revision ID: producer_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "producer_0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "producer_slices" not in existing:
        op.create_table(
            "producer_slices",
            sa.Column("start_time", sa.BigInteger(), nullable=False),
            sa.Column("end_time", sa.BigInteger(), nullable=False),
            sa.Column("output", sa.Float(), nullable=False),
            sa.Column("producer_price", sa.BigInteger(), nullable=False),
            sa.Column("payment_address", sa.String(length=90), nullable=False),
            sa.Column("readings", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("start_time"),
        )
    if "producer_source_readings" not in existing:
        op.create_table(
            "producer_source_readings",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("registration_id", sa.String(length=256), nullable=False),
            sa.Column("start_time", sa.BigInteger(), nullable=False),
            sa.Column("end_time", sa.BigInteger(), nullable=False),
            sa.Column("output", sa.Float(), nullable=False),
            sa.Column("counted_in", sa.BigInteger(), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(
            op.f("ix_producer_source_readings_counted_in"),
            "producer_source_readings",
            ["counted_in"],
            unique=False,
        )
        op.create_index(
            op.f("ix_producer_source_readings_end_time"),
            "producer_source_readings",
            ["end_time"],
            unique=False,
        )
        op.create_index(
            op.f("ix_producer_source_readings_registration_id"),
            "producer_source_readings",
            ["registration_id"],
            unique=False,
        )


def downgrade() -> None:
    op.drop_table("producer_source_readings")
    op.drop_table("producer_slices")
