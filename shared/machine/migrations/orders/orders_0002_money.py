"""orders: what an order received, its credit, its late part, whether its address was swept.

Written by hand with the model change (issue 20): four columns, 0/false for orders made
before it.

The new columns and tables are listed in the ``.toml`` beside this file (``Changes``).

Revision ID: orders_0002
Revises: orders_0001
"""

from __future__ import annotations

from shared.migrations.baseline import Changes

revision = "orders_0002"
down_revision: str | None = "orders_0001"

CHANGES = Changes(__file__)


def upgrade() -> None:
    CHANGES.apply()


def downgrade() -> None:
    CHANGES.revert()
