"""Pay-per-use (issue 23): paid sessions, the payments behind them and the owner's income."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from services.lock.controller import Controller
from services.lock.db import PaidSession, Tool, ToolPayment, utc
from services.lock.deps import R401, AccountDep, ControllerDep
from services.lock.schemas import MAX_ID, IncomeOut, PaidSessionOut, ToolPaymentOut
from services.lock.views import paid_session_out
from shared.db import run_db

router = APIRouter(tags=["pay-per-use"])

Limit = Annotated[int, Query(ge=1, le=1000)]
ToolFilter = Annotated[int | None, Query(ge=1, le=MAX_ID)]


def _sessions(
    controller: Controller, tool_id: int | None, state: str | None, limit: int
) -> list[PaidSessionOut]:
    with controller.sessions() as session:
        query = select(PaidSession).order_by(PaidSession.id.desc()).limit(limit)
        if tool_id is not None:
            query = query.where(PaidSession.tool_id == tool_id)
        if state is not None:
            query = query.where(PaidSession.state == state)
        return [paid_session_out(session, paid) for paid in session.scalars(query)]


@router.get("/sessions", response_model=list[PaidSessionOut], responses=R401)
async def list_sessions(
    _account: AccountDep,
    controller: ControllerDep,
    tool_id: ToolFilter = None,
    state: Literal["active", "ended", "failed"] | None = None,
    limit: Limit = 100,
) -> list[PaidSessionOut]:
    """Paid sessions, newest first: who (channel, payer), tool, started, paid, minutes, state."""
    return await run_db(_sessions, controller, tool_id, state, limit)


def _payments(controller: Controller, tool_id: int | None, limit: int) -> list[ToolPaymentOut]:
    with controller.sessions() as session:
        query = select(ToolPayment).order_by(ToolPayment.id.desc()).limit(limit)
        if tool_id is not None:
            query = query.where(ToolPayment.tool_id == tool_id)
        return [
            ToolPaymentOut(
                id=p.id,
                at=utc(p.at),
                channel_id=p.channel_id,
                tool_id=p.tool_id,
                session_id=p.session_id,
                amount=p.amount,
                status=p.status,
                seconds=round(p.seconds, 3),
                answer=p.answer,
            )
            for p in session.scalars(query)
        ]


@router.get("/payments", response_model=list[ToolPaymentOut], responses=R401)
async def list_payments(
    _account: AccountDep, controller: ControllerDep, tool_id: ToolFilter = None, limit: Limit = 100
) -> list[ToolPaymentOut]:
    """Payments received for tools, newest first, each with the answer the payer got."""
    return await run_db(_payments, controller, tool_id, limit)


def _income(controller: Controller) -> IncomeOut:
    with controller.sessions() as session:
        rows = session.execute(
            select(Tool.name, func.coalesce(func.sum(ToolPayment.amount), 0))
            .join(ToolPayment, ToolPayment.tool_id == Tool.id)
            .where(ToolPayment.status == "accepted")
            .group_by(Tool.name)
        ).all()
        refused = session.scalar(
            select(func.coalesce(func.sum(ToolPayment.amount), 0)).where(
                ToolPayment.status != "accepted"
            )
        )
    tools = {str(name): int(total) for name, total in rows}
    received, balance = 0, None
    paid = controller.paid
    if paid is not None:
        from shared.iota.wallet import WalletError  # loaded already with pay-per-use on

        for cid in paid.node.channels():
            received += int(paid.node.balances_and_status(cid)["amount_spent_by_peer"])
        try:
            balance = paid.wallet.balance()
        except WalletError:  # the devnet is down: the books above still answer
            balance = None
    return IncomeOut(
        total=sum(tools.values()),
        refused=int(refused or 0),
        tools=tools,
        channel_received=received,
        wallet_balance=balance,
    )


@router.get("/income", response_model=IncomeOut, responses=R401)
async def income(_account: AccountDep, controller: ControllerDep) -> IncomeOut:
    """What the tools earned: accepted payments per tool, and what the channels received."""
    return await run_db(_income, controller)
