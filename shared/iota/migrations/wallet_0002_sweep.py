"""wallet: held payment addresses expire and are swept once (``hold_until``, ``swept_value``).

Written by hand with the model change (issue 20): two nullable columns; addresses made
before it are neither held with an expiry nor swept.

Revision ID: wallet_0002
Revises: wallet_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "wallet_0002"
down_revision: str | None = "wallet_0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("wallet_addresses", sa.Column("hold_until", sa.Float(), nullable=True))
    op.add_column("wallet_addresses", sa.Column("swept_value", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("wallet_addresses") as batch:
        batch.drop_column("swept_value")
        batch.drop_column("hold_until")
