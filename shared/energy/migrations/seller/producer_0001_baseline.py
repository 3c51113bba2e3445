"""producer: the baseline, the schema of main on 2026-12-07 (e59404d) before Alembic.

A database made before Alembic has some or all of these tables already (and no version
table): the baseline creates the missing ones and leaves the others and their rows alone.
Rendered from that day's models by Alembic's autogenerate renderer; the tables are
listed in the ``.toml`` beside this file (shared/migrations/baseline.py).

Revision ID: producer_0001
Revises:
"""

from __future__ import annotations

from shared.migrations.baseline import Baseline

revision = "producer_0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

BASELINE = Baseline(__file__)


def upgrade() -> None:
    BASELINE.create_missing()


def downgrade() -> None:
    BASELINE.drop()
