"""The order processor with hand-written fakes: statuses, payment, payout, queue, expiry, resume.

The fakes defined here (FakeWallet, FakeSio, FakeProvider) are reused by test_machine_socket.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from shared.iota.zmq_lines import TransactionConfirmed, TransactionSeen
from shared.machine.broadcaster import StatusBroadcaster
from shared.machine.processor import MachineConfig, OrderProcessor
from shared.machine.requests import EnergyOrderRequest, OrderRejected, OrderRequest
from shared.machine.status import MachineStatus, OrderState
from shared.machine.store import OrderStore
from shared.machine.watcher import PaymentWatcher

_counter = itertools.count()


def fake_address(prefix: str = "A") -> str:
    n = next(_counter)
    digits = "".join("ABCDEFGHIJ"[int(d)] for d in f"{n:06d}")
    return (prefix + digits).ljust(81, "9")


@dataclass
class FakeSendResult:
    bundle_hash: str
    tail_hash: str
    value: int
    to: str


class FakeWallet:
    """Confirmed balances per address, set by the test; sends are recorded."""

    def __init__(self) -> None:
        self.balances: dict[str, int] = {}
        self.sent: list[FakeSendResult] = []
        self.handed_out: list[str] = []
        self.fail_sends = 0
        self.reserved: set[str] = set()
        self.holds: dict[str, float] = {}
        self.swept: dict[str, int] = {}
        self._lock = threading.Lock()

    def new_address(self, purpose: str, *, reserve: bool = False) -> str:
        with self._lock:
            address = fake_address("W")
            self.handed_out.append(address)
            if reserve:
                self.reserved.add(address)
            return address

    def release(self, address: str) -> bool:
        with self._lock:
            held = address in self.reserved
            self.reserved.discard(address)
            return held

    def reserved_addresses(self) -> list[str]:
        with self._lock:
            return [a for a in self.handed_out if a in self.reserved]

    def address_balance(self, address: str) -> int:
        return self.balances.get(address, 0)

    def address_balances(self, addresses: Any) -> dict[str, int]:
        return {a: self.balances.get(a, 0) for a in addresses}

    # Held addresses, as shared.iota.wallet: never spendable until swept, swept once.
    def spendable_balance(self) -> int:
        return sum(
            self.balances.get(a, 0)
            for a in self.handed_out
            if a not in self.reserved and a not in self.swept
        )

    def hold(self, address: str, until: float) -> bool:
        if address not in self.reserved or address in self.swept:
            return False
        self.holds[address] = until
        return True

    def due_sweeps(self, now: float | None = None) -> list[str]:
        moment = time.time() if now is None else now
        return [a for a, t in self.holds.items() if t <= moment and a not in self.swept]

    def sweep(self, address: str) -> int | None:
        with self._lock:
            if address in self.swept:
                return None
            value = self.balances.pop(address, 0)
            self.swept[address] = value
            self.holds.pop(address, None)
            if value:
                fresh = fake_address("S")
                self.handed_out.append(fresh)
                self.balances[fresh] = value
            return value

    def swept_value(self, address: str) -> int | None:
        return self.swept.get(address)

    def sweep_due(self, now: float | None = None, *, skip: Any = ()) -> dict[str, int]:
        out: dict[str, int] = {}
        for address in self.due_sweeps(now):
            if address not in set(skip):
                value = self.sweep(address)
                if value is not None:
                    out[address] = value
        return out

    def late_payments(self, addresses: Any) -> dict[str, int]:
        return {
            a: self.balances[a] for a in addresses if a in self.swept and self.balances.get(a, 0)
        }

    def balance(self) -> int:
        return sum(self.balances.get(a, 0) for a in self.handed_out)

    def send(self, value: int, to: str, *, tag: str = "", message: str = "") -> FakeSendResult:
        if self.fail_sends:
            self.fail_sends -= 1
            raise RuntimeError("node unreachable")
        result = FakeSendResult(fake_address("B"), fake_address("T"), value, to)
        self.sent.append(result)
        return result


@dataclass
class FakeSio:
    """Records emits the way python-socketio's AsyncServer would send them."""

    emitted: list[tuple[str, Any, str | None]] = field(default_factory=list)
    handlers: dict[str, Any] = field(default_factory=dict)

    def on(self, event: str, handler: Any) -> None:
        self.handlers[event] = handler

    async def emit(self, event: str, data: Any = None, to: str | None = None) -> None:
        self.emitted.append((event, data, to))

    def statuses(self) -> list[str]:
        return [d["status"] for e, d, to in self.emitted if e == "status" and to is None]

    def last(self) -> str:
        statuses = self.statuses()
        return statuses[-1] if statuses else ""


class FakeProvider:
    name = "wind"

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, int]] = []
        self.addresses: dict[str, str] = {}
        self.on_tangle: set[str] = set()
        self.fail = False

    async def request_energy(self, order_id: str, robot: str, amount: int) -> tuple[str, int]:
        if self.fail:
            raise ConnectionError("provider down")
        self.requests.append((order_id, robot, amount))
        address = self.addresses.setdefault(order_id, fake_address("P"))
        return address, amount

    async def transfer_exists(self, address: str) -> bool:
        return address in self.on_tangle


@dataclass
class Machine:
    processor: OrderProcessor
    wallet: FakeWallet
    sio: FakeSio
    watcher: PaymentWatcher
    store: OrderStore
    provider: FakeProvider | None
    task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self.processor.run())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def pay(self, address: str, value: int, *, confirm: bool = True) -> None:
        """What the node would do: a `tx` line, then (confirmed) balance + an `sn` line."""
        tx_hash = fake_address("H")
        self.watcher.handle(
            TransactionSeen(
                tx_hash, address, value, "9" * 27, 0, 0, 0, "9" * 81, "9" * 81, "9" * 81, 0, "9"
            )
        )
        if confirm:
            await asyncio.sleep(0.05)
            self.wallet.balances[address] = self.wallet.balances.get(address, 0) + value
            self.watcher.handle(TransactionConfirmed(5, tx_hash, address, "9", "9", "9"))


def make_machine(
    tmp_path: Path, *, robot: bool = True, store: OrderStore | None = None, **overrides: Any
) -> Machine:
    options: dict[str, Any] = {
        "name": "robot 1" if robot else "wind",
        "kind": "product" if robot else "energy",
        "price": 100 if robot else 1,
        "work_seconds": 0.05,
        "order_timeout": 5.0,
        "poll_interval": 0.05,
        "payout_timeout": 1.0,
    }
    options.update(overrides)
    config = MachineConfig(**options)
    store = store or OrderStore.from_url(f"sqlite:///{tmp_path / 'orders.sqlite'}")
    sio = FakeSio()
    watcher = PaymentWatcher()
    broadcaster = StatusBroadcaster(sio, config.name)
    provider = FakeProvider() if robot else None
    wallet = FakeWallet()
    processor = OrderProcessor(config, store, wallet, watcher, broadcaster, provider)
    return Machine(processor, wallet, sio, watcher, store, provider)


async def wait_for(predicate: Any, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


async def test_robot_order_goes_through_every_status_and_pays_provider(tmp_path: Path) -> None:
    m = make_machine(tmp_path)
    m.start()
    await wait_for(lambda: m.sio.statuses() == ["waiting_for_order"])
    reply = await m.processor.submit_order(OrderRequest(product="headphones"))
    assert reply["price"] == 100 and reply["position"] == 0
    await wait_for(lambda: m.sio.last() == "waiting_for_tx")
    await m.pay(reply["address"], 100)
    await wait_for(lambda: len(m.sio.statuses()) >= 6)
    await wait_for(lambda: m.store.get(reply["order_id"]).state == OrderState.DONE)  # type: ignore[union-attr]
    assert m.sio.statuses() == [
        "waiting_for_order",
        "waiting_for_tx",
        "waiting_for_tx_confirm",
        "payout_provider",
        "working",
        "waiting_for_order",
    ]
    # the status pushes carry the order's address, price and id
    tx_status = next(
        d for e, d, _ in m.sio.emitted if e == "status" and d["status"] == "waiting_for_tx"
    )
    assert tx_status["address"] == reply["address"] and tx_status["price"] == 100
    assert tx_status["order_id"] == reply["order_id"]
    assert [(s.value, s.to) for s in m.wallet.sent] == [
        (10, m.provider.addresses[reply["order_id"]])  # type: ignore[union-attr]
    ]
    assert m.watcher.watched == frozenset()  # no watch left behind per order
    balances = [d["balance"] for e, d, _ in m.sio.emitted if e == "balance"]
    assert balances and balances[-1] == 100  # the paid address is the robot's own
    await m.stop()


async def test_unpaid_order_expires_and_machine_returns_to_waiting(tmp_path: Path) -> None:
    m = make_machine(tmp_path, order_timeout=0.3)
    m.start()
    reply = await m.processor.submit_order(OrderRequest())
    await wait_for(lambda: m.store.get(reply["order_id"]).state == OrderState.EXPIRED)  # type: ignore[union-attr]
    await wait_for(lambda: m.sio.last() == "waiting_for_order")
    assert m.sio.statuses()[-2:] == ["waiting_for_tx", "waiting_for_order"]
    assert "expired" in m.processor.broadcaster.last_status["message"]
    assert m.wallet.sent == []
    await m.stop()


async def test_second_order_is_queued_and_served_after_the_first(tmp_path: Path) -> None:
    m = make_machine(tmp_path, max_queue=1)
    m.start()
    first = await m.processor.submit_order(OrderRequest())
    second = await m.processor.submit_order(OrderRequest(customer="bob"))
    assert second["position"] == 1 and second["state"] == "queued"
    assert "queue" in second["message"]
    with pytest.raises(OrderRejected, match="queue is full"):
        await m.processor.submit_order(OrderRequest())
    # paying the queued order early is fine: it is noticed once it is its turn
    m.wallet.balances[second["address"]] = 100
    await m.pay(first["address"], 100)
    for reply in (first, second):
        await wait_for(lambda r=reply: m.store.get(r["order_id"]).state == OrderState.DONE)  # type: ignore[union-attr]
    assert len(m.wallet.sent) == 2
    # the store says done a moment before the machine announces it is free again
    await wait_for(lambda: m.sio.last() == "waiting_for_order")
    assert m.sio.statuses().count("working") == 2
    await m.stop()


async def test_confirmation_without_zmq_is_found_by_polling(tmp_path: Path) -> None:
    m = make_machine(tmp_path)
    m.start()
    reply = await m.processor.submit_order(OrderRequest())
    await wait_for(lambda: m.sio.last() == "waiting_for_tx")
    m.wallet.balances[reply["address"]] = 150  # ZMQ missed everything; the balance is there
    await wait_for(lambda: m.store.get(reply["order_id"]).state == OrderState.DONE)  # type: ignore[union-attr]
    statuses = m.sio.statuses()
    start = statuses.index("waiting_for_tx")
    assert statuses[start : start + 3] == [
        "waiting_for_tx",
        "waiting_for_tx_confirm",
        "payout_provider",
    ]
    await m.stop()


async def test_partial_payment_is_not_enough(tmp_path: Path) -> None:
    m = make_machine(tmp_path, order_timeout=0.4)
    m.start()
    reply = await m.processor.submit_order(OrderRequest())
    await wait_for(lambda: m.sio.last() == "waiting_for_tx")
    await m.pay(reply["address"], 99)
    await wait_for(lambda: m.store.get(reply["order_id"]).state == OrderState.EXPIRED)  # type: ignore[union-attr]
    assert "payout_provider" not in m.sio.statuses()
    assert m.wallet.sent == []
    await m.stop()


async def test_restart_after_payment_resumes_and_pays_once(tmp_path: Path) -> None:
    m = make_machine(tmp_path)
    m.start()
    reply = await m.processor.submit_order(OrderRequest())
    await wait_for(lambda: m.sio.last() == "waiting_for_tx")
    await m.pay(reply["address"], 100, confirm=False)
    await wait_for(lambda: m.sio.last() == "waiting_for_tx_confirm")
    await m.stop()  # "killed" while waiting for the confirmation
    assert m.store.get(reply["order_id"]).state == OrderState.WAITING_FOR_TX_CONFIRM  # type: ignore[union-attr]

    again = make_machine(
        tmp_path, store=OrderStore.from_url(f"sqlite:///{tmp_path / 'orders.sqlite'}")
    )
    again.wallet.balances[reply["address"]] = 100  # confirmed while we were down
    again.start()
    await wait_for(lambda: again.store.get(reply["order_id"]).state == OrderState.DONE)  # type: ignore[union-attr]
    assert again.sio.statuses()[:3] == ["waiting_for_tx_confirm", "payout_provider", "working"]
    assert len(again.wallet.sent) == 1
    await again.stop()


async def test_payout_already_on_tangle_is_not_sent_twice(tmp_path: Path) -> None:
    m = make_machine(tmp_path)
    order = m.store.create(
        kind="product", product="p", customer=None, price=100, address=fake_address()
    )
    payout_address = fake_address("P")
    m.store.update(
        order.id,
        state=OrderState.PAYOUT_PROVIDER,
        payout_address=payout_address,
        payout_value=10,
        payout_started=True,  # died between claiming the payout and recording its tail
    )
    assert m.provider is not None
    m.provider.on_tangle.add(payout_address)
    m.start()
    await wait_for(lambda: m.store.get(order.id).state == OrderState.DONE)  # type: ignore[union-attr]
    assert m.wallet.sent == []
    await m.stop()


async def test_payout_retries_then_fails_without_losing_the_machine(tmp_path: Path) -> None:
    # Long enough that one retried send fits in it on a loaded 2-core CI machine.
    m = make_machine(tmp_path, payout_timeout=2.0)
    assert m.provider is not None
    m.provider.fail = True
    m.start()
    reply = await m.processor.submit_order(OrderRequest())
    await m.pay(reply["address"], 100)
    await wait_for(lambda: m.store.get(reply["order_id"]).state == OrderState.FAILED)  # type: ignore[union-attr]
    await wait_for(lambda: m.sio.last() == "waiting_for_order")
    # the machine still serves the next order once the provider is back
    m.provider.fail = False
    m.wallet.fail_sends = 1  # one failed send is retried, not fatal
    nxt = await m.processor.submit_order(OrderRequest())
    await m.pay(nxt["address"], 100)
    await wait_for(lambda: m.store.get(nxt["order_id"]).state == OrderState.DONE)  # type: ignore[union-attr]
    assert len(m.wallet.sent) == 1
    await m.stop()


async def test_provider_serves_energy_orders_without_payout(tmp_path: Path) -> None:
    m = make_machine(tmp_path, robot=False)
    m.start()
    await wait_for(lambda: m.sio.last() == "waiting_for_order")
    request = EnergyOrderRequest(order_id="abc123", robot="robot 1", amount=10)
    order = await m.processor.submit_energy_order(request)
    again = await m.processor.submit_energy_order(request)
    assert again.id == order.id and again.address == order.address  # idempotent
    with pytest.raises(OrderRejected, match="another robot or amount"):
        await m.processor.submit_energy_order(
            EnergyOrderRequest(order_id="abc123", robot="robot 1", amount=11)
        )
    await m.pay(order.address, 10)
    await wait_for(lambda: m.store.get(order.id).state == OrderState.DONE)  # type: ignore[union-attr]
    # the order is stored as done a moment before the machine announces it is free again
    await wait_for(lambda: m.sio.statuses().count("waiting_for_order") == 2)
    assert m.sio.statuses() == [
        "waiting_for_order",
        "waiting_for_tx",
        "waiting_for_tx_confirm",
        "working",
        "waiting_for_order",
    ]
    working = next(d for e, d, _ in m.sio.emitted if e == "status" and d["status"] == "working")
    assert "robot 1" in working["message"]
    assert m.wallet.sent == []
    await m.stop()


async def test_provider_refuses_less_than_its_price(tmp_path: Path) -> None:
    m = make_machine(tmp_path, robot=False, price=5)
    with pytest.raises(OrderRejected, match="at least 5i"):
        await m.processor.submit_energy_order(
            EnergyOrderRequest(order_id="x1", robot="robot 1", amount=4)
        )
    assert m.store.recent() == []


async def test_welcome_reports_the_real_status(tmp_path: Path) -> None:
    m = make_machine(tmp_path)
    connect = m.sio.handlers["connect"]
    await connect("sid1", {})
    assert ("welcome", {"name": "robot 1", "status": "booting"}, "sid1") in m.sio.emitted
    m.start()
    reply = await m.processor.submit_order(OrderRequest())
    await wait_for(lambda: m.processor.broadcaster.status == MachineStatus.WAITING_FOR_TX)
    await connect("sid2", {})
    assert ("welcome", {"name": "robot 1", "status": "waiting_for_tx"}, "sid2") in m.sio.emitted
    current = [d for e, d, to in m.sio.emitted if e == "status" and to == "sid2"]
    assert current[-1]["address"] == reply["address"]
    await m.stop()


async def test_balance_is_pushed_again_when_the_payout_confirms(tmp_path: Path) -> None:
    m = make_machine(tmp_path)
    confirmed: set[str] = set()
    m.wallet.is_confirmed = lambda tail: tail in confirmed  # type: ignore[attr-defined]
    m.start()
    reply = await m.processor.submit_order(OrderRequest())
    await m.pay(reply["address"], 100)
    await wait_for(lambda: len(m.wallet.sent) == 1)
    await wait_for(lambda: m.sio.last() == "waiting_for_order")
    # the node confirms the payout: the robot's confirmed balance drops by the payout
    # (the order's money was swept to a fresh address first: the robot had no other)
    assert m.wallet.swept == {reply["address"]: 100}
    source = next(a for a, v in m.wallet.balances.items() if v == 100)
    m.wallet.balances[source] = 90
    confirmed.add(m.wallet.sent[0].tail_hash)
    await wait_for(lambda: m.processor.broadcaster.balance == 90)
    await m.stop()


async def test_provider_is_asked_while_the_confirmation_is_pending(tmp_path: Path) -> None:
    m = make_machine(tmp_path)
    assert m.provider is not None
    m.start()
    reply = await m.processor.submit_order(OrderRequest())
    await wait_for(lambda: m.sio.last() == "waiting_for_tx")
    await m.pay(reply["address"], 100, confirm=False)
    await wait_for(lambda: m.sio.last() == "waiting_for_tx_confirm")
    await wait_for(lambda: len(m.provider.requests) == 1)
    assert m.store.get(reply["order_id"]).paid_at is None  # type: ignore[union-attr]
    m.wallet.balances[reply["address"]] = 100
    await wait_for(lambda: m.store.get(reply["order_id"]).state == OrderState.DONE)  # type: ignore[union-attr]
    assert m.provider.requests == [(reply["order_id"], "robot 1", 10)]
    assert [s.to for s in m.wallet.sent] == [m.provider.addresses[reply["order_id"]]]
    await m.stop()
