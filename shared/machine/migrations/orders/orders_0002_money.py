"""orders: what an order received, its credit, its late part, whether its address was swept.

Written by hand with the model change (issue 20): four columns, 0/false for orders made
before it.
"""

from __future__ import annotations

from shared.migrations.baseline import Changes

revision = "orders_0002"
down_revision: str | None = "orders_0001"

# The columns and tables it adds are listed in the .toml beside this file.
CHANGES = Changes(__file__)
upgrade = CHANGES.apply
downgrade = CHANGES.revert
