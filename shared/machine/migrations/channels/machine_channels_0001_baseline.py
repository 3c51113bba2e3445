"""machine_channels: the baseline, the schema of main on 2026-12-07 (e59404d) before Alembic.

A database made before Alembic has some or all of these tables already (and no version
table): the baseline creates the missing ones and leaves the others and their rows alone.
Rendered from that day's models by Alembic's autogenerate renderer.

Revision ID: machine_channels_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "machine_channels_0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "channel_energy_payments" not in existing:
        op.create_table(
            "channel_energy_payments",
            sa.Column("order_id", sa.String(length=64), nullable=False),
            sa.Column("amount", sa.BigInteger(), nullable=False),
            sa.Column("channel_id", sa.String(length=64), nullable=False),
            sa.PrimaryKeyConstraint("order_id"),
        )


def downgrade() -> None:
    op.drop_table("channel_energy_payments")
