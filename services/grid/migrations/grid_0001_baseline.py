"""grid: the baseline, the schema of main on 2026-12-07 (e59404d) before Alembic.

A database made before Alembic has some or all of these tables already (and no version
table): the baseline creates the missing ones and leaves the others and their rows alone.
Rendered from that day's models by Alembic's autogenerate renderer.

Revision ID: grid_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "grid_0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "grid_audit_outbox" not in existing:
        op.create_table(
            "grid_audit_outbox",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("no", sa.String(length=200), nullable=False),
            sa.Column("kind", sa.String(length=16), nullable=False),
            sa.Column("ref", sa.BigInteger(), nullable=False),
            sa.Column("document", sa.Text(), nullable=False),
            sa.Column("status", sa.String(length=16), nullable=False),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("attempted_at", sa.Float(), nullable=True),
            sa.Column("last_error", sa.String(length=300), nullable=True),
            sa.Column("ledger_id", sa.Integer(), nullable=True),
            sa.Column("seq_no", sa.Integer(), nullable=True),
            sa.Column("created_at", sa.Float(), nullable=False),
            sa.Column("sent_at", sa.Float(), nullable=True),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("no"),
        )
        op.create_index(
            "ix_grid_audit_outbox_seq_no", "grid_audit_outbox", ["seq_no"], unique=False
        )
        op.create_index(
            op.f("ix_grid_audit_outbox_status"), "grid_audit_outbox", ["status"], unique=False
        )
        op.create_index(
            "ux_grid_audit_outbox_kind_ref", "grid_audit_outbox", ["kind", "ref"], unique=True
        )
    if "grid_consumer_usage" not in existing:
        op.create_table(
            "grid_consumer_usage",
            sa.Column("consumer_id", sa.String(length=256), nullable=False),
            sa.Column("slice_start", sa.BigInteger(), nullable=False),
            sa.Column("slice_end", sa.BigInteger(), nullable=False),
            sa.Column("usage", sa.Float(), nullable=False),
            sa.Column("request_id", sa.Integer(), nullable=True),
            sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("consumer_id", "slice_start"),
        )
        op.create_index(
            op.f("ix_grid_consumer_usage_request_id"),
            "grid_consumer_usage",
            ["request_id"],
            unique=False,
        )
    if "grid_payment_requests" not in existing:
        op.create_table(
            "grid_payment_requests",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("consumer_id", sa.String(length=256), nullable=False),
            sa.Column("slice_start", sa.BigInteger(), nullable=False),
            sa.Column("usage", sa.Float(), nullable=False),
            sa.Column("billed_total", sa.Float(), nullable=False),
            sa.Column("amount", sa.BigInteger(), nullable=False),
            sa.Column("paid", sa.BigInteger(), nullable=False),
            sa.Column("owed", sa.BigInteger(), nullable=False),
            sa.Column("address", sa.String(length=81), nullable=False),
            sa.Column("outbox_id", sa.Integer(), nullable=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("address"),
        )
        op.create_index(
            op.f("ix_grid_payment_requests_consumer_id"),
            "grid_payment_requests",
            ["consumer_id"],
            unique=False,
        )
    if "grid_payments" not in existing:
        op.create_table(
            "grid_payments",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("bundle", sa.String(length=81), nullable=False),
            sa.Column("address", sa.String(length=81), nullable=False),
            sa.Column("tx_hash", sa.String(length=81), nullable=False),
            sa.Column("consumer_id", sa.String(length=256), nullable=False),
            sa.Column("value", sa.BigInteger(), nullable=False),
            sa.Column("confirmed", sa.Boolean(), nullable=False),
            sa.Column("cut", sa.BigInteger(), nullable=False),
            sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(
            op.f("ix_grid_payments_confirmed"), "grid_payments", ["confirmed"], unique=False
        )
        op.create_index(
            op.f("ix_grid_payments_consumer_id"), "grid_payments", ["consumer_id"], unique=False
        )
        op.create_index(
            "ux_grid_payments_bundle_address", "grid_payments", ["bundle", "address"], unique=True
        )
    if "grid_payouts" not in existing:
        op.create_table(
            "grid_payouts",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("payment_id", sa.Integer(), nullable=True),
            sa.Column("producer_id", sa.String(length=256), nullable=False),
            sa.Column("amount", sa.BigInteger(), nullable=False),
            sa.Column("status", sa.String(length=16), nullable=False),
            sa.Column("address", sa.String(length=81), nullable=True),
            sa.Column("tail_hash", sa.String(length=81), nullable=True),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("last_error", sa.String(length=300), nullable=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(
            op.f("ix_grid_payouts_payment_id"), "grid_payouts", ["payment_id"], unique=False
        )
        op.create_index(
            op.f("ix_grid_payouts_producer_id"), "grid_payouts", ["producer_id"], unique=False
        )
        op.create_index(op.f("ix_grid_payouts_status"), "grid_payouts", ["status"], unique=False)
    if "grid_producer_slices" not in existing:
        op.create_table(
            "grid_producer_slices",
            sa.Column("producer_id", sa.String(length=256), nullable=False),
            sa.Column("slice_start", sa.BigInteger(), nullable=False),
            sa.Column("slice_end", sa.BigInteger(), nullable=False),
            sa.Column("output", sa.Float(), nullable=False),
            sa.Column("price", sa.Float(), nullable=True),
            sa.Column("payment_address", sa.String(length=256), nullable=True),
            sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("producer_id", "slice_start"),
        )
        op.create_index(
            "ix_grid_producer_slices_start", "grid_producer_slices", ["slice_start"], unique=False
        )
    if "grid_slice_prices" not in existing:
        op.create_table(
            "grid_slice_prices",
            sa.Column("slice_start", sa.BigInteger(), nullable=False),
            sa.Column("slice_end", sa.BigInteger(), nullable=False),
            sa.Column("price", sa.Float(), nullable=False),
            sa.Column("method", sa.String(length=16), nullable=False),
            sa.Column("output", sa.Float(), nullable=False),
            sa.Column("usage", sa.Float(), nullable=False),
            sa.Column("requests", sa.Integer(), nullable=False),
            sa.Column("settled_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("slice_start"),
        )
    if "grid_storage_items" not in existing:
        op.create_table(
            "grid_storage_items",
            sa.Column("registration_id", sa.String(length=256), nullable=False),
            sa.Column("context", sa.String(length=1024), nullable=False),
            sa.Column("item_id", sa.String(length=1024), nullable=False),
            sa.Column("body", sa.Text(), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("registration_id", "context", "item_id"),
        )
    if "grid_waiting_money" not in existing:
        op.create_table(
            "grid_waiting_money",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("payment_id", sa.Integer(), nullable=False),
            sa.Column("amount", sa.BigInteger(), nullable=False),
            sa.Column("assigned", sa.Boolean(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(
            op.f("ix_grid_waiting_money_assigned"), "grid_waiting_money", ["assigned"], unique=False
        )
        op.create_index(
            op.f("ix_grid_waiting_money_payment_id"),
            "grid_waiting_money",
            ["payment_id"],
            unique=False,
        )


def downgrade() -> None:
    op.drop_table("grid_waiting_money")
    op.drop_table("grid_storage_items")
    op.drop_table("grid_slice_prices")
    op.drop_table("grid_producer_slices")
    op.drop_table("grid_payouts")
    op.drop_table("grid_payments")
    op.drop_table("grid_payment_requests")
    op.drop_table("grid_consumer_usage")
    op.drop_table("grid_audit_outbox")
