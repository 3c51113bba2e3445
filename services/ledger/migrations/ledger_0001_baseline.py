"""ledger: the baseline, the schema of main on 2026-12-07 (e59404d) before Alembic.

A database made before Alembic has some or all of these tables already (and no version
table): the baseline creates the missing ones and leaves the others and their rows alone.
Rendered from that day's models by Alembic's autogenerate renderer.

Revision ID: ledger_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ledger_0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "ledgers" not in existing:
        op.create_table(
            "ledgers",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("name", sa.String(length=128), nullable=False),
            sa.Column("metadata_json", sa.Text(), nullable=False),
            sa.Column("size", sa.Integer(), nullable=False),
            sa.Column("root_hash", sa.String(length=64), nullable=False),
            sa.Column("last_round", sa.String(length=32), nullable=False),
            sa.Column("created_at", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("name"),
        )
    if "rounds" not in existing:
        op.create_table(
            "rounds",
            sa.Column("id", sa.String(length=32), nullable=False),
            sa.Column("ledger_name", sa.String(length=128), nullable=False),
            sa.Column("kind", sa.String(length=8), nullable=False),
            sa.Column("actor", sa.String(length=64), nullable=False),
            sa.Column("status", sa.String(length=10), nullable=False),
            sa.Column("base_size", sa.Integer(), nullable=False),
            sa.Column("base_root", sa.String(length=64), nullable=False),
            sa.Column("new_size", sa.Integer(), nullable=False),
            sa.Column("new_root", sa.String(length=64), nullable=False),
            sa.Column("proposal_json", sa.Text(), nullable=False),
            sa.Column("certificate_json", sa.Text(), nullable=True),
            sa.Column("deadline", sa.Float(), nullable=False),
            sa.Column("created_at", sa.Float(), nullable=False),
            sa.Column("updated_at", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(op.f("ix_rounds_ledger_name"), "rounds", ["ledger_name"], unique=False)
        op.create_index(op.f("ix_rounds_status"), "rounds", ["status"], unique=False)
    if "tokens" not in existing:
        op.create_table(
            "tokens",
            sa.Column("digest", sa.String(length=64), nullable=False),
            sa.Column("username", sa.String(length=64), nullable=False),
            sa.Column("created_at", sa.Float(), nullable=False),
            sa.Column("expires_at", sa.Float(), nullable=False),
            sa.Column("revoked", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("digest"),
        )
        op.create_index(op.f("ix_tokens_expires_at"), "tokens", ["expires_at"], unique=False)
        op.create_index(op.f("ix_tokens_username"), "tokens", ["username"], unique=False)
    if "transactions" not in existing:
        op.create_table(
            "transactions",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("ledger_id", sa.Integer(), nullable=False),
            sa.Column("seq_no", sa.Integer(), nullable=False),
            sa.Column("entry_json", sa.Text(), nullable=False),
            sa.Column("leaf_hash", sa.String(length=64), nullable=False),
            sa.Column("round_id", sa.String(length=32), nullable=False),
            sa.Column("created_at", sa.Float(), nullable=False),
            sa.ForeignKeyConstraint(
                ["ledger_id"],
                ["ledgers.id"],
            ),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("ledger_id", "seq_no"),
        )
        op.create_index(
            op.f("ix_transactions_ledger_id"), "transactions", ["ledger_id"], unique=False
        )
        op.create_index(
            op.f("ix_transactions_round_id"), "transactions", ["round_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("transactions")
    op.drop_table("tokens")
    op.drop_table("rounds")
    op.drop_table("ledgers")
