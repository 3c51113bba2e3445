"""wallet: held payment addresses expire and are swept once (``hold_until``, ``swept_value``).

Written by hand with the model change (issue 20): two nullable columns; addresses made
before it are neither held with an expiry nor swept.

The new columns and tables are listed in the ``.toml`` beside this file (``Changes``).

Revision ID: wallet_0002
Revises: wallet_0001
"""

from __future__ import annotations

from shared.migrations.baseline import Changes

revision = "wallet_0002"
down_revision: str | None = "wallet_0001"

CHANGES = Changes(__file__)


def upgrade() -> None:
    CHANGES.apply()


def downgrade() -> None:
    CHANGES.revert()
