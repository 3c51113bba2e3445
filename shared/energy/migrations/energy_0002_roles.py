"""energy: a registration's declared role (``energy_registrations.role``).

Written by hand with the model change (issue 21, the machine kit): ``seller``, ``buyer``
or ``both`` as the registrant declared it; the grid's registrations made before it are
given the role their seed ``itemType`` names (``producer`` sells, ``consumer`` buys), the
producer's sources none.

Revision ID: energy_0002
Revises: energy_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "energy_0002"
down_revision: str | None = "energy_0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("energy_registrations", sa.Column("role", sa.String(length=16), nullable=True))
    op.execute(
        "UPDATE energy_registrations SET role = CASE item_type "
        "WHEN 'producer' THEN 'seller' WHEN 'consumer' THEN 'buyer' END"
    )


def downgrade() -> None:
    with op.batch_alter_table("energy_registrations") as batch:
        batch.drop_column("role")
