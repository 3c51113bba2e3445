"""The wallet's two tables (``wallet_addresses``, ``wallet_sends``) and their store.

Migrations in shared/iota/migrations; several wallets share the tables, keyed by
:func:`seed_fingerprint`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import BigInteger, Boolean, Float, Integer, String, Text, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.migrations import Store


class _Base(DeclarativeBase):
    pass


class WalletAddress(_Base):
    """One address a wallet handed out (or found used on the tangle while looking for one)."""

    __tablename__ = "wallet_addresses"

    wallet_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    security: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(81), index=True)
    purpose: Mapped[str] = mapped_column(String(200))
    spent: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[float] = mapped_column(Float)
    spent_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    # Held for a purpose (an open order): never an input until released.
    reserved: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Derived and checked ahead of need, not handed out yet (also reserved meanwhile).
    pooled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The process that claimed this input for a send it has not recorded yet (see
    # ``_release_orphaned_claims``); cleared when the signed bundle is recorded.
    claimed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    # A reserved address whose purpose ended: swept once (``sweep_due``) after this time.
    hold_until: Mapped[float | None] = mapped_column(Float, nullable=True)
    # What its sweep moved (written with the signed sweep bundle; 0 when it was empty).
    swept_value: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class WalletSend(_Base):
    """A signed bundle, kept from before it leaves the process until it is attached."""

    __tablename__ = "wallet_sends"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    wallet_id: Mapped[str] = mapped_column(String(64), index=True)
    security: Mapped[int] = mapped_column(Integer)
    bundle_hash: Mapped[str] = mapped_column(String(81))
    to_address: Mapped[str] = mapped_column(String(81))
    value: Mapped[int] = mapped_column(BigInteger)
    inputs: Mapped[str] = mapped_column(Text)  # JSON list of input addresses
    remainder_address: Mapped[str | None] = mapped_column(String(81), nullable=True)
    remainder_value: Mapped[int] = mapped_column(BigInteger, default=0)
    trytes: Mapped[str] = mapped_column(Text)  # JSON list, tail first, unattached
    # signed -> attached (on the tangle) -> settled (confirmed); a failed attach leaves
    # it "failed" until a later send claims it ("sending") and attaches it again.
    state: Mapped[str] = mapped_column(String(16), index=True)
    touched_at: Mapped[float] = mapped_column(Float, default=0.0)
    owner: Mapped[str | None] = mapped_column(String(80), nullable=True)
    tail_hash: Mapped[str | None] = mapped_column(String(81), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[float] = mapped_column(Float)
    attached_at: Mapped[float | None] = mapped_column(Float, nullable=True)


# The wallet's tables, in the database of whichever service holds the wallet:
# migrations in shared/iota/migrations.
STORE = Store("wallet", Path(__file__).parent.parent / "migrations", _Base.metadata)


def seed_fingerprint(seed: str, security: int) -> str:
    """The key of a wallet's rows: SHA-256 over a label, the seed and the security level.

    Seeds carry ~384 bits of entropy, so the digest reveals nothing usable; the
    security level is part of it because it changes every address.
    """
    return hashlib.sha256(f"machine-economy-wallet/v1/{security}/{seed}".encode()).hexdigest()
