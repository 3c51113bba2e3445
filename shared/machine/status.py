"""Machine statuses (the seed 000 contract) and the lifecycle states of one order."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ACTIVE_STATES", "TERMINAL_STATES", "MachineStatus", "OrderState"]


class MachineStatus(StrEnum):
    """What the machine is doing; exactly the statuses of the seed README."""

    BOOTING = "booting"
    WAITING_FOR_ORDER = "waiting_for_order"
    WAITING_FOR_TX = "waiting_for_tx"
    WAITING_FOR_TX_CONFIRM = "waiting_for_tx_confirm"
    PAYOUT_PROVIDER = "payout_provider"
    WORKING = "working"


class OrderState(StrEnum):
    """Where one order is in its life; persisted so a restarted machine can resume it."""

    QUEUED = "queued"  # accepted, has its address, another order is being served
    WAITING_FOR_TX = "waiting_for_tx"  # active, nothing seen yet for its address
    WAITING_FOR_TX_CONFIRM = "waiting_for_tx_confirm"  # payment seen, not confirmed
    PAYOUT_PROVIDER = "payout_provider"  # paid and confirmed; paying the provider
    WORKING = "working"
    DONE = "done"
    EXPIRED = "expired"  # not paid (or not confirmed) in time
    FAILED = "failed"  # paid, but the provider could not be paid in time


TERMINAL_STATES = frozenset({OrderState.DONE, OrderState.EXPIRED, OrderState.FAILED})
ACTIVE_STATES = frozenset(set(OrderState) - TERMINAL_STATES)
