"""wallet: the baseline, the schema of main on 2026-12-07 (e59404d) before Alembic.

A database made before Alembic has some or all of these tables already (and no version
table): the baseline creates the missing ones and leaves the others and their rows alone.
Rendered from that day's models by Alembic's autogenerate renderer.

A wallet made before address reservations has ``wallet_addresses`` without ``reserved``,
``pooled`` and ``claimed_by``: the baseline adds them (false, false, null), as the
hand-written ``_upgrade_schema`` of shared/iota/wallet.py did until Alembic.

Revision ID: wallet_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "wallet_0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "wallet_addresses" not in existing:
        op.create_table(
            "wallet_addresses",
            sa.Column("wallet_id", sa.String(length=64), nullable=False),
            sa.Column("security", sa.Integer(), nullable=False),
            sa.Column("key_index", sa.Integer(), nullable=False),
            sa.Column("address", sa.String(length=81), nullable=False),
            sa.Column("purpose", sa.String(length=200), nullable=False),
            sa.Column("spent", sa.Boolean(), nullable=False),
            sa.Column("created_at", sa.Float(), nullable=False),
            sa.Column("spent_at", sa.Float(), nullable=True),
            sa.Column("reserved", sa.Boolean(), server_default=sa.false(), nullable=False),
            sa.Column("pooled", sa.Boolean(), server_default=sa.false(), nullable=False),
            sa.Column("claimed_by", sa.String(length=80), nullable=True),
            sa.PrimaryKeyConstraint("wallet_id", "security", "key_index"),
        )
        op.create_index(
            op.f("ix_wallet_addresses_address"), "wallet_addresses", ["address"], unique=False
        )
    if "wallet_sends" not in existing:
        op.create_table(
            "wallet_sends",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("wallet_id", sa.String(length=64), nullable=False),
            sa.Column("security", sa.Integer(), nullable=False),
            sa.Column("bundle_hash", sa.String(length=81), nullable=False),
            sa.Column("to_address", sa.String(length=81), nullable=False),
            sa.Column("value", sa.BigInteger(), nullable=False),
            sa.Column("inputs", sa.Text(), nullable=False),
            sa.Column("remainder_address", sa.String(length=81), nullable=True),
            sa.Column("remainder_value", sa.BigInteger(), nullable=False),
            sa.Column("trytes", sa.Text(), nullable=False),
            sa.Column("state", sa.String(length=16), nullable=False),
            sa.Column("touched_at", sa.Float(), nullable=False),
            sa.Column("owner", sa.String(length=80), nullable=True),
            sa.Column("tail_hash", sa.String(length=81), nullable=True),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("created_at", sa.Float(), nullable=False),
            sa.Column("attached_at", sa.Float(), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(op.f("ix_wallet_sends_state"), "wallet_sends", ["state"], unique=False)
        op.create_index(
            op.f("ix_wallet_sends_wallet_id"), "wallet_sends", ["wallet_id"], unique=False
        )

    _add_reservation_columns()


def _add_reservation_columns() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("wallet_addresses")}
    added = [
        sa.Column("reserved", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("pooled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("claimed_by", sa.String(length=80), nullable=True),
    ]
    # ADD COLUMN with a constant default keeps every row (and needs no table copy).
    for column in added:
        if column.name not in columns:
            op.add_column("wallet_addresses", column)


def downgrade() -> None:
    op.drop_table("wallet_sends")
    op.drop_table("wallet_addresses")
