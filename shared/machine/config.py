"""How one machine serves its orders: price, timings, queue and per-client limits, the
provider's share (MACHINE_* / robot settings feed it; shared.machine.processor uses it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shared.machine.settings import MachineSettings

__all__ = ["MachineConfig"]


@dataclass(frozen=True, slots=True)
class MachineConfig:
    name: str
    kind: str  # "product" for robots, "energy" for providers
    price: int
    work_seconds: float
    order_timeout: float
    max_queue: int = 10
    poll_interval: float = 1.0
    provider_share: float = 0.1
    payout_timeout: float = 120.0
    tag: str = "MACHINE9ECONOMY"
    # Open orders one Socket.IO connection / one client address may have (0: no limit).
    max_orders_per_connection: int = 2
    max_orders_per_address: int = 5
    # Seconds an order's address stays held after the order ended, then swept once.
    address_hold: float = 120.0

    @classmethod
    def from_settings(cls, settings: MachineSettings, kind: str, **more: Any) -> MachineConfig:
        """What every machine's settings say of its orders (NAME, PRICE, WORK_SECONDS,
        ORDER_TIMEOUT, MAX_QUEUE, POLL_INTERVAL); ``more``: a robot's payout terms."""
        return cls(
            name=settings.name,
            kind=kind,
            price=settings.price,
            work_seconds=settings.work_seconds,
            order_timeout=settings.order_timeout,
            max_queue=settings.max_queue,
            poll_interval=settings.poll_interval,
            **more,
        )

    def payout_for(self, price: int) -> int:
        return max(1, round(price * self.provider_share))
