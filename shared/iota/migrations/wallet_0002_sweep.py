"""wallet: held payment addresses expire and are swept once (``hold_until``, ``swept_value``).

Written by hand with the model change (issue 20): two nullable columns; addresses made
before it are neither held with an expiry nor swept.
"""

from __future__ import annotations

from shared.migrations.baseline import Changes

revision = "wallet_0002"
down_revision: str | None = "wallet_0001"

# The columns and tables it adds are listed in the .toml beside this file.
CHANGES = Changes(__file__)
upgrade = CHANGES.apply
downgrade = CHANGES.revert
