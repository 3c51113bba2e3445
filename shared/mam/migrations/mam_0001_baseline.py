"""mam: the baseline, the schema of main on 2026-12-07 (e59404d) before Alembic.

A database made before Alembic has some or all of these tables already (and no version
table): the baseline creates the missing ones and leaves the others and their rows alone.
Rendered from that day's models by Alembic's autogenerate renderer.

Revision ID: mam_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "mam_0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "mam_channel_positions" not in existing:
        op.create_table(
            "mam_channel_positions",
            sa.Column("fingerprint", sa.String(length=81), nullable=False),
            sa.Column("security", sa.Integer(), nullable=False),
            sa.Column("start", sa.Integer(), nullable=False),
            sa.Column("count", sa.Integer(), nullable=False),
            sa.Column("next_count", sa.Integer(), nullable=False),
            sa.Column("leaf_index", sa.Integer(), nullable=False),
            sa.Column("next_root", sa.String(length=81), nullable=True),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("fingerprint"),
        )


def downgrade() -> None:
    op.drop_table("mam_channel_positions")
