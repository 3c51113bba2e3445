"""orders: what an order received, its credit, its late part, whether its address was swept.

Written by hand with the model change (issue 20): four columns, 0/false for orders made
before it.

Revision ID: orders_0002
Revises: orders_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "orders_0002"
down_revision: str | None = "orders_0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    for column in ("received", "credit", "late"):
        op.add_column(
            "machine_orders",
            sa.Column(column, sa.BigInteger(), nullable=False, server_default="0"),
        )
    op.add_column(
        "machine_orders",
        sa.Column("swept", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("machine_orders") as batch:
        for column in ("swept", "late", "credit", "received"):
            batch.drop_column(column)
