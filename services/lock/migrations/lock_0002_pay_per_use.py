"""lock: pay-per-use tools (issue 23): a tool's pricing, paid sessions and their payments.

Written by hand with the model change: ``tools`` gets ``pricing`` (``member`` for every
tool made before, which keeps seed 004's checkout flow), ``price_per_minute`` (0) and
``min_minutes`` (1); ``paid_sessions`` and ``tool_payments`` are new.

The new columns and tables are listed in the ``.toml`` beside this file (``Changes``).

Revision ID: lock_0002
Revises: lock_0001
"""

from __future__ import annotations

from shared.migrations.baseline import Changes

revision = "lock_0002"
down_revision: str | None = "lock_0001"

CHANGES = Changes(__file__)


def upgrade() -> None:
    CHANGES.apply()


def downgrade() -> None:
    CHANGES.revert()
