"""grid: a payment's late part and its unapplied credit (``grid_payments.late``, ``.credit``).

Written by hand with the model change (issue 20): two integer columns, 0 for payments
booked before it (they were counted whole, as then).

The new columns and tables are listed in the ``.toml`` beside this file (``Changes``).

Revision ID: grid_0003
Revises: grid_0002
"""

from __future__ import annotations

from shared.migrations.baseline import Changes

revision = "grid_0003"
down_revision: str | None = "grid_0002"

CHANGES = Changes(__file__)


def upgrade() -> None:
    CHANGES.apply()


def downgrade() -> None:
    CHANGES.revert()
