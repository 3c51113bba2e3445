"""Persistent orders of one machine (SQLAlchemy 2; SQLite file or PostgreSQL).

Every state change is committed before the machine announces it, so what clients were told
survives a SIGKILL and a restarted machine resumes the oldest unfinished order.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    Integer,
    String,
    false,
    func,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from shared.db import make_engine, make_sessionmaker
from shared.machine.status import ACTIVE_STATES, OrderState
from shared.migrations import Store, upgrade

__all__ = ["Order", "OrderStore"]


class _Base(DeclarativeBase):
    pass


class _OrderRow(_Base):
    __tablename__ = "machine_orders"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "product" (robot) or "energy" (provider)
    product: Mapped[str] = mapped_column(String(64))
    customer: Mapped[str | None] = mapped_column(String(64), nullable=True)
    price: Mapped[int] = mapped_column(BigInteger)
    address: Mapped[str] = mapped_column(String(81))
    state: Mapped[str] = mapped_column(String(32), index=True)
    message: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[float] = mapped_column(Float)
    deadline: Mapped[float | None] = mapped_column(Float, nullable=True)
    paid_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    payout_address: Mapped[str | None] = mapped_column(String(81), nullable=True)
    payout_value: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    payout_started: Mapped[bool] = mapped_column(Boolean, default=False)
    payout_tail: Mapped[str | None] = mapped_column(String(81), nullable=True)
    # The money rule (shared/iota/payments.py): what reached the address and counts, the
    # part beyond the price (or all of it, for an order that expired) kept as the payer's
    # credit, and what arrived after the address was swept (late, never counted).
    received: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    credit: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    late: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    swept: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


@dataclass(frozen=True, slots=True)
class Order:
    """A snapshot of one stored order."""

    seq: int
    id: str
    kind: str
    product: str
    customer: str | None
    price: int
    address: str
    state: OrderState
    message: str
    created_at: float
    deadline: float | None
    paid_at: float | None
    finished_at: float | None
    payout_address: str | None
    payout_value: int | None
    payout_started: bool
    payout_tail: str | None
    received: int = 0
    credit: int = 0
    late: int = 0
    swept: bool = False

    def public(self) -> dict[str, Any]:
        """What clients may see of the order (everything here is public by nature)."""
        return {
            "order_id": self.id,
            "kind": self.kind,
            "product": self.product,
            "customer": self.customer,
            "price": self.price,
            "address": self.address,
            "state": self.state.value,
            "message": self.message,
            "created_at": self.created_at,
            "paid_at": self.paid_at,
            "finished_at": self.finished_at,
            "payout_value": self.payout_value,
            "payout_tail": self.payout_tail,
            "received": self.received,
            "credit": self.credit,
            "late": self.late,
            "swept": self.swept,
        }


def _snapshot(row: _OrderRow) -> Order:
    return Order(
        seq=row.seq,
        id=row.id,
        kind=row.kind,
        product=row.product,
        customer=row.customer,
        price=row.price,
        address=row.address,
        state=OrderState(row.state),
        message=row.message,
        created_at=row.created_at,
        deadline=row.deadline,
        paid_at=row.paid_at,
        finished_at=row.finished_at,
        payout_address=row.payout_address,
        payout_value=row.payout_value,
        payout_started=row.payout_started,
        payout_tail=row.payout_tail,
        received=row.received or 0,
        credit=row.credit or 0,
        late=row.late or 0,
        swept=bool(row.swept),
    )


# A machine's orders: migrations in shared/machine/migrations/orders.
STORE = Store("orders", Path(__file__).parent / "migrations" / "orders", _Base.metadata)


class OrderStore:
    """Orders of one machine, oldest first."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        upgrade(engine, STORE)
        self._sessions = make_sessionmaker(engine)

    @classmethod
    def from_url(cls, database_url: str) -> OrderStore:
        return cls(make_engine(database_url))

    def close(self) -> None:
        self._engine.dispose()

    def create(
        self,
        *,
        kind: str,
        product: str,
        customer: str | None,
        price: int,
        address: str,
        order_id: str | None = None,
        message: str = "",
        deadline: float | None = None,
    ) -> Order:
        row = _OrderRow(
            id=order_id or secrets.token_hex(8),
            kind=kind,
            product=product,
            customer=customer,
            price=price,
            address=address,
            state=OrderState.QUEUED.value,
            message=message,
            created_at=time.time(),
            deadline=deadline,
            payout_started=False,
        )
        with self._sessions.begin() as session:
            session.add(row)
            session.flush()
            return _snapshot(row)

    def get(self, order_id: str) -> Order | None:
        with Session(self._engine) as session:
            row = session.scalar(select(_OrderRow).where(_OrderRow.id == order_id))
            return _snapshot(row) if row else None

    def update(self, order_id: str, **changes: Any) -> Order:
        """Apply ``changes`` (column=value; OrderState values allowed) and commit."""
        with self._sessions.begin() as session:
            row = session.scalar(select(_OrderRow).where(_OrderRow.id == order_id))
            if row is None:
                raise KeyError(order_id)
            for key, value in changes.items():
                setattr(row, key, value.value if isinstance(value, OrderState) else value)
            session.flush()
            return _snapshot(row)

    def unfinished(self) -> list[Order]:
        """Orders not yet done, expired or failed, oldest first (the head is served next)."""
        states = [s.value for s in ACTIVE_STATES]
        with Session(self._engine) as session:
            rows = session.scalars(
                select(_OrderRow).where(_OrderRow.state.in_(states)).order_by(_OrderRow.seq)
            )
            return [_snapshot(r) for r in rows]

    def count_unfinished(self) -> int:
        states = [s.value for s in ACTIVE_STATES]
        with Session(self._engine) as session:
            return int(
                session.scalar(
                    select(func.count()).select_from(_OrderRow).where(_OrderRow.state.in_(states))
                )
                or 0
            )

    def received_total(self) -> int:
        """Tokens counted on every order address (the books' income): what was paid there
        before it was swept, the price and any credit alike; late payments are not counted."""
        with Session(self._engine) as session:
            return int(session.scalar(select(func.coalesce(func.sum(_OrderRow.received), 0))) or 0)

    def count_done(self) -> dict[str, int]:
        """How many orders of each kind are done (products made, energy delivered)."""
        with Session(self._engine) as session:
            rows = session.execute(
                select(_OrderRow.kind, func.count())
                .where(_OrderRow.state == OrderState.DONE.value)
                .group_by(_OrderRow.kind)
            )
            return {str(kind): int(count) for kind, count in rows}

    def by_address(self, address: str) -> Order | None:
        with Session(self._engine) as session:
            row = session.scalar(
                select(_OrderRow).where(_OrderRow.address == address).order_by(_OrderRow.seq)
            )
            return _snapshot(row) if row else None

    def recent(self, limit: int = 50) -> list[Order]:
        with Session(self._engine) as session:
            rows = session.scalars(select(_OrderRow).order_by(_OrderRow.seq.desc()).limit(limit))
            return [_snapshot(r) for r in rows]
