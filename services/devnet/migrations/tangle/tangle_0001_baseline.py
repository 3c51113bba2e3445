"""tangle: the baseline, the schema of main on 2026-12-07 (e59404d) before Alembic.

A database made before Alembic has some or all of these tables already (and no version
table): the baseline creates the missing ones and leaves the others and their rows alone.
Rendered from that day's models by Alembic's autogenerate renderer.

Revision ID: tangle_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "tangle_0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "balances" not in existing:
        op.create_table(
            "balances",
            sa.Column("address", sa.String(length=81), nullable=False),
            sa.Column("balance", sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint("address"),
        )
    if "meta" not in existing:
        op.create_table(
            "meta",
            sa.Column("key", sa.String(length=64), nullable=False),
            sa.Column("value", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("key"),
        )
    if "milestones" not in existing:
        op.create_table(
            "milestones",
            sa.Column("idx", sa.Integer(), autoincrement=False, nullable=False),
            sa.Column("hash", sa.String(length=81), nullable=False),
            sa.Column("timestamp", sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint("idx"),
        )
    if "spent_addresses" not in existing:
        op.create_table(
            "spent_addresses",
            sa.Column("address", sa.String(length=81), nullable=False),
            sa.PrimaryKeyConstraint("address"),
        )
    if "transactions" not in existing:
        op.create_table(
            "transactions",
            sa.Column("hash", sa.String(length=81), nullable=False),
            sa.Column("trytes", sa.Text(), nullable=False),
            sa.Column("address", sa.String(length=81), nullable=False),
            sa.Column("value", sa.BigInteger(), nullable=False),
            sa.Column("obsolete_tag", sa.String(length=27), nullable=False),
            sa.Column("tag", sa.String(length=27), nullable=False),
            sa.Column("timestamp", sa.BigInteger(), nullable=False),
            sa.Column("current_index", sa.Integer(), nullable=False),
            sa.Column("last_index", sa.Integer(), nullable=False),
            sa.Column("bundle", sa.String(length=81), nullable=False),
            sa.Column("trunk", sa.String(length=81), nullable=False),
            sa.Column("branch", sa.String(length=81), nullable=False),
            sa.Column("arrival", sa.BigInteger(), nullable=False),
            sa.Column("milestone", sa.Integer(), nullable=True),
            sa.PrimaryKeyConstraint("hash"),
        )
        op.create_index(op.f("ix_transactions_address"), "transactions", ["address"], unique=False)
        op.create_index(op.f("ix_transactions_branch"), "transactions", ["branch"], unique=False)
        op.create_index(op.f("ix_transactions_bundle"), "transactions", ["bundle"], unique=False)
        op.create_index(
            op.f("ix_transactions_milestone"), "transactions", ["milestone"], unique=False
        )
        op.create_index(
            op.f("ix_transactions_obsolete_tag"), "transactions", ["obsolete_tag"], unique=False
        )
        op.create_index(op.f("ix_transactions_tag"), "transactions", ["tag"], unique=False)
        op.create_index(op.f("ix_transactions_trunk"), "transactions", ["trunk"], unique=False)
    if "value_bundles" not in existing:
        op.create_table(
            "value_bundles",
            sa.Column("bundle", sa.String(length=81), nullable=False),
            sa.Column("moves", sa.Text(), nullable=False),
            sa.Column("milestone", sa.Integer(), nullable=True),
            sa.PrimaryKeyConstraint("bundle"),
        )


def downgrade() -> None:
    op.drop_table("value_bundles")
    op.drop_table("transactions")
    op.drop_table("spent_addresses")
    op.drop_table("milestones")
    op.drop_table("meta")
    op.drop_table("balances")
