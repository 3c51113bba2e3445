"""wallet: the baseline, the schema of main on 2026-12-07 (e59404d) before Alembic.

A database made before Alembic has some or all of these tables already (and no version
table): the baseline creates the missing ones and leaves the others and their rows alone.
Rendered from that day's models by Alembic's autogenerate renderer; the tables are
listed in the ``.toml`` beside this file (shared/migrations/baseline.py).

A wallet made before address reservations has ``wallet_addresses`` without ``reserved``,
``pooled`` and ``claimed_by``: the baseline adds them (false, false, null), as the
hand-written ``_upgrade_schema`` of shared/iota/wallet.py did until Alembic.

Revision ID: wallet_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from shared.migrations.baseline import Baseline

revision = "wallet_0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


BASELINE = Baseline(__file__)


def upgrade() -> None:
    BASELINE.create_missing()
    _add_reservation_columns()


def _add_reservation_columns() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("wallet_addresses")}
    # ADD COLUMN with a constant default keeps every row (and needs no table copy).
    for name in ("reserved", "pooled", "claimed_by"):
        if name not in columns:
            op.add_column("wallet_addresses", BASELINE.column("wallet_addresses", name))


def downgrade() -> None:
    BASELINE.drop()
