"""grid: a payment's late part and its unapplied credit (``grid_payments.late``, ``.credit``).

Written by hand with the model change (issue 20): two integer columns, 0 for payments
booked before it (they were counted whole, as then).

Revision ID: grid_0003
Revises: grid_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "grid_0003"
down_revision: str | None = "grid_0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    for column in ("late", "credit"):
        op.add_column(
            "grid_payments",
            sa.Column(column, sa.BigInteger(), nullable=False, server_default="0"),
        )


def downgrade() -> None:
    with op.batch_alter_table("grid_payments") as batch:
        batch.drop_column("credit")
        batch.drop_column("late")
