"""``GET /economy``: where every token on the devnet is (docs/audit.md).

The supply, every non-zero confirmed balance, the faucet's addresses and the channel
agent's escrows with what the agent's own state says each holds, all read under the
tangle's lock so they belong to one milestone. Read-only, beside the IRI API (whose
``POST /`` it does not touch); ``shared.economy.audit_economy`` attributes the balances.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from services.devnet.channel_agent import ChannelAgent, agent_channels, agent_escrows
from services.devnet.faucet import Faucet
from services.devnet.node import DevnetNode
from shared.channels.rules import ChannelState
from shared.iota.bundle import TOTAL_SUPPLY

__all__ = ["EconomyView", "router"]


class Holding(BaseModel):
    address: str
    balance: int


class FaucetHolding(BaseModel):
    balance: int = Field(description="confirmed balance of all the faucet's addresses")
    keyIndex: int = Field(description="the faucet's current key index")
    addresses: list[Holding] = Field(description="the faucet's addresses 0..keyIndex+1")


class EscrowHolding(BaseModel):
    address: str
    channel_id: str
    period: int
    balance: int = Field(description="confirmed balance of the escrow")
    books: int = Field(
        description="what the agent's state says it holds: the period's deposits, refunds "
        "and stray value while open or closing, the settlement until it is paid, then 0"
    )


class Economy(BaseModel):
    supply: int = Field(description="the total supply (IRI's 2779530283277761)")
    total: int = Field(description="sum of every confirmed balance (== supply)")
    milestone: int = Field(description="latest milestone index the balances belong to")
    faucet: FaucetHolding
    escrows: list[EscrowHolding]
    balances: list[Holding] = Field(description="every address with a non-zero balance")


def _escrows(agent: ChannelAgent | None, balances: dict[str, int]) -> list[EscrowHolding]:
    if agent is None:
        return []
    with agent.engine.connect() as conn:
        states = {
            cid: ChannelState.from_json(json.loads(raw))
            for cid, raw in conn.execute(
                select(agent_channels.c.channel_id, agent_channels.c.state)
            ).all()
        }
        escrows = conn.execute(
            select(agent_escrows.c.address, agent_escrows.c.channel_id, agent_escrows.c.period)
        ).all()
    result = []
    for address, cid, period in escrows:
        state = states.get(cid)
        books = 0
        if state is not None:
            if period == state.period:
                books = state.total + sum(state.refunds.values()) + state.stray
            else:
                books = sum(s.total for s in state.pending if s.period == period)
        result.append(
            EscrowHolding(
                address=address,
                channel_id=cid,
                period=int(period),
                balance=balances.get(address, 0),
                books=books,
            )
        )
    return result


class EconomyView:
    """What ``GET /economy`` reads: the lifespan's node, faucet and channel agent (through
    callables: none exists before the lifespan starts) and the faucet addresses derived so
    far. The devnet puts one on ``app.state.economy``."""

    def __init__(
        self,
        node: Callable[[], DevnetNode | None],
        faucet: Callable[[], Faucet | None],
        agent: Callable[[], ChannelAgent | None],
    ) -> None:
        self.node = node
        self.faucet = faucet
        self.agent = agent
        self.lock = threading.Lock()
        self.derived: dict[int, str] = {}

    def snapshot(self) -> Economy | None:
        tangle_node, tap = self.node(), self.faucet()
        if tangle_node is None or tap is None:
            return None
        tangle = tangle_node.tangle
        index = tap.key_index()
        with self.lock:
            # Derived once per index (~15 ms each) and kept: Faucet caches only two.
            for i in range(index + 2):
                if i not in self.derived:
                    self.derived[i] = tap.address(i)
            faucet_addresses = [self.derived[i] for i in range(index + 2)]
        with tangle.lock:
            balances = {a: b for a, b in tangle.balances.items() if b}
            milestone = tangle.latest_milestone_index
        return Economy(
            supply=TOTAL_SUPPLY,
            total=sum(balances.values()),
            milestone=milestone,
            faucet=FaucetHolding(
                balance=sum(balances.get(a, 0) for a in faucet_addresses),
                keyIndex=index,
                addresses=[
                    Holding(address=a, balance=balances.get(a, 0)) for a in faucet_addresses
                ],
            ),
            escrows=_escrows(self.agent(), balances),
            balances=[Holding(address=a, balance=b) for a, b in sorted(balances.items())],
        )


async def economy_view(request: Request) -> EconomyView:
    view: EconomyView = request.app.state.economy
    return view


router = APIRouter(tags=["audit"])


@router.get(
    "/economy",
    response_model=Economy,
    responses={
        503: {
            "description": "the devnet is starting",
            "content": {"application/json": {"example": {"error": "the devnet is starting"}}},
        }
    },
)
async def economy(view: Annotated[EconomyView, Depends(economy_view)]) -> Any:
    """Supply, every non-zero balance, the faucet's and the escrows' holdings (the
    economy audit's view of the devnet; docs/audit.md)."""
    result = await anyio.to_thread.run_sync(view.snapshot)
    if result is None:
        return JSONResponse({"error": "the devnet is starting"}, status_code=503)
    return result
