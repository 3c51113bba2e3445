"""lock: pay-per-use tools (issue 23): a tool's pricing, paid sessions and their payments.

Written by hand with the model change: ``tools`` gets ``pricing`` (``member`` for every
tool made before, which keeps seed 004's checkout flow), ``price_per_minute`` (0) and
``min_minutes`` (1); ``paid_sessions`` and ``tool_payments`` are new.
"""

from __future__ import annotations

from shared.migrations.baseline import Changes

revision = "lock_0002"
down_revision: str | None = "lock_0001"

# The columns and tables it adds are listed in the .toml beside this file.
CHANGES = Changes(__file__)
upgrade = CHANGES.apply
downgrade = CHANGES.revert
