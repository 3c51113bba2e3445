"""The devnet faucet: real signed value transfers from the faucet seed's addresses.

The faucet spends its whole current address and sends the remainder to its next
key index, which is persisted in the same database transaction as the bundle,
so a restart never reuses an address it has spent from. Requests are served one
at a time; while the previous remainder is unconfirmed the next request waits
for the coordinator (about one milestone interval), polling ``try_pay`` without
holding the faucet's lock while it waits.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from services.devnet.node import DevnetNode
from shared.iota.bundle import Input, Output, build_bundle
from shared.iota.kerl import kerl_hash
from shared.iota.signing import address_of
from shared.iota.transaction import parse_many
from shared.iota.trinary import is_trytes, trits_to_trytes, trytes_to_trits

__all__ = ["Faucet", "FaucetError", "FaucetUnavailable", "checked_address"]

FAUCET_TAG = "DEVNET9FAUCET" + "9" * 14
_INDEX_KEY = "faucet_key_index"


class FaucetError(ValueError):
    """A request the faucet refuses (HTTP 400)."""


class FaucetUnavailable(RuntimeError):
    """The faucet cannot pay right now (HTTP 503)."""


def checked_address(address: object) -> str:
    """The 81-tryte address of an 81- or 90-tryte input; FaucetError if it is not one."""
    if not isinstance(address, str) or not is_trytes(address) or len(address) not in (81, 90):
        raise FaucetError("address must be 81 trytes, or 90 with a checksum")
    base = address[:81]
    if len(address) == 90:
        checksum = trits_to_trytes(kerl_hash(trytes_to_trits(base)))[-9:]
        if checksum != address[81:]:
            raise FaucetError("address checksum is invalid")
    if trytes_to_trits(base[-1])[-1] != 0:
        raise FaucetError("address cannot receive value (its last trit is not 0)")
    return base


@dataclass(frozen=True, slots=True)
class FaucetPayment:
    address: str
    value: int
    bundle: str
    transactions: list[str]
    tail: str


class Faucet:
    def __init__(self, node: DevnetNode, seed: str, max_value: int, wait: float = 30) -> None:
        self.node = node
        self._seed = seed
        self.max_value = max_value
        self.wait = wait
        self._lock = threading.Lock()
        self._addresses: dict[int, str] = {}

    def address(self, index: int) -> str:
        if index not in self._addresses:
            if len(self._addresses) > 16:
                self._addresses.clear()  # only the current and the next index are used
            self._addresses[index] = address_of(self._seed, index, 2)
        return self._addresses[index]

    def key_index(self) -> int:
        raw = self.node.tangle.store.get_meta(_INDEX_KEY)
        return int(raw) if raw is not None else 0

    def balance(self) -> int:
        return self.node.tangle.confirmed_balance(self.address(self.key_index()))

    def check(self, address: object, value: object) -> str:
        """The target address of a valid request; FaucetError says what is wrong."""
        target = checked_address(address)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise FaucetError("value must be a positive integer")
        if value > self.max_value:
            raise FaucetError(f"value is capped at {self.max_value} (DEVNET_FAUCET_MAX)")
        return target

    def pay(self, address: object, value: object) -> FaucetPayment:
        """Pay, waiting up to ``wait`` seconds for the previous payment's confirmation.

        The waiting happens outside the lock, so nothing else ever queues behind a sleep.
        """
        target = self.check(address, value)
        assert isinstance(value, int)
        deadline = time.monotonic() + self.wait
        while True:
            payment = self.try_pay(target, value)
            if payment is not None:
                return payment
            if time.monotonic() > deadline:
                raise FaucetUnavailable("the faucet's last payment is not confirmed yet")
            time.sleep(0.05)

    def try_pay(self, target: str, value: int) -> FaucetPayment | None:
        """Pay now, or None while the previous remainder is not confirmed (try again soon)."""
        with self._lock:
            index = self.key_index()
            source = self.address(index)
            tangle = self.node.tangle
            # Wait until the previous remainder is confirmed (nothing reserved on it).
            if tangle.confirmed_balance(source) == 0 or tangle.reserved.get(source):
                if tangle.confirmed_balance(source) == 0 and not tangle.pending_bundles:
                    raise FaucetUnavailable("the faucet has no funds")
                return None
            balance = tangle.confirmed_balance(source)
            if balance < value:
                raise FaucetUnavailable(f"the faucet holds only {balance}")
            if target == source:
                raise FaucetError("cannot pay the faucet's own address")
            remainder = self.address(index + 1) if balance > value else None
            trytes = build_bundle(
                [Output(target, value, FAUCET_TAG)],
                [Input(source, balance, self._seed, index, 2)],
                remainder_address=remainder,
            )
            attached = self.node.attach_and_store(
                list(reversed(trytes)), meta_updates={_INDEX_KEY: str(index + 1)}
            )
        parsed = parse_many(attached).transactions
        tail = next(tx for tx in parsed if tx.current_index == 0)
        return FaucetPayment(target, value, tail.bundle, [tx.hash for tx in parsed], tail.hash)
