"""A ledger participant's tables (services/ledger/store.py works on them) and the schema
store their migrations (services/ledger/migrations) belong to."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.migrations import Store as SchemaStore

__all__ = [
    "SCHEMA",
    "Base",
    "IdempotencyRow",
    "LedgerRow",
    "RoundRow",
    "TokenRow",
    "TransactionRow",
]


class Base(DeclarativeBase):
    pass


class LedgerRow(Base):
    __tablename__ = "ledgers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    metadata_json: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer, default=0)
    root_hash: Mapped[str] = mapped_column(String(64))
    last_round: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[float] = mapped_column(Float)


class TransactionRow(Base):
    __tablename__ = "transactions"
    __table_args__ = (UniqueConstraint("ledger_id", "seq_no"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ledger_id: Mapped[int] = mapped_column(ForeignKey("ledgers.id"), index=True)
    seq_no: Mapped[int] = mapped_column(Integer)
    entry_json: Mapped[str] = mapped_column(Text)
    leaf_hash: Mapped[str] = mapped_column(String(64))
    round_id: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[float] = mapped_column(Float)


class RoundRow(Base):
    __tablename__ = "rounds"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ledger_name: Mapped[str] = mapped_column(String(128), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    actor: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10), index=True)
    base_size: Mapped[int] = mapped_column(Integer)
    base_root: Mapped[str] = mapped_column(String(64))
    new_size: Mapped[int] = mapped_column(Integer)
    new_root: Mapped[str] = mapped_column(String(64))
    proposal_json: Mapped[str] = mapped_column(Text)
    certificate_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    deadline: Mapped[float] = mapped_column(Float)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class IdempotencyRow(Base):
    """An ``idempotency_key`` committed in a ledger: the transaction it names (its
    ``seq_no``) and the digest of its body, so a retry returns it and a different body
    under the same key is refused. Written with the transaction, on every participant."""

    __tablename__ = "idempotency_keys"
    ledger_name: Mapped[str] = mapped_column(String(128), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    seq_no: Mapped[int] = mapped_column(Integer)
    round_id: Mapped[str] = mapped_column(String(32))


class TokenRow(Base):
    __tablename__ = "tokens"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
    revoked: Mapped[int] = mapped_column(Integer, default=0)


# A participant's database: migrations in services/ledger/migrations.
SCHEMA = SchemaStore("ledger", Path(__file__).parent / "migrations", Base.metadata)
