"""energy: a registration's declared role (``energy_registrations.role``).

Written by hand with the model change (issue 21, the machine kit): ``seller``, ``buyer``
or ``both`` as the registrant declared it; the grid's registrations made before it are
given the role their seed ``itemType`` names (``producer`` sells, ``consumer`` buys), the
producer's sources none.
"""

from __future__ import annotations

from alembic import op

from shared.migrations.baseline import Changes

revision = "energy_0002"
down_revision: str | None = "energy_0001"

# The columns and tables it adds are listed in the .toml beside this file.
CHANGES = Changes(__file__)


def upgrade() -> None:
    CHANGES.apply()
    op.execute(
        "UPDATE energy_registrations SET role = CASE item_type "
        "WHEN 'producer' THEN 'seller' WHEN 'consumer' THEN 'buyer' END"
    )


downgrade = CHANGES.revert
