"""grid: a payment's late part and its unapplied credit (``grid_payments.late``, ``.credit``).

Written by hand with the model change (issue 20): two integer columns, 0 for payments
booked before it (they were counted whole, as then).
"""

from __future__ import annotations

from shared.migrations.baseline import Changes

revision = "grid_0003"
down_revision: str | None = "grid_0002"

# The columns and tables it adds are listed in the .toml beside this file.
CHANGES = Changes(__file__)
upgrade = CHANGES.apply
downgrade = CHANGES.revert
