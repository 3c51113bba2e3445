"""What every part of the wallet shares: its errors, its result, its limits and who a process is."""

from __future__ import annotations

import logging
import os
import re
import secrets
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from shared.iota.curl import curl_hash
from shared.iota.trinary import trits_to_trytes, trytes_to_trits

log = logging.getLogger("shared.iota.wallet")

MAX_SUPPLY = (3**33 - 1) // 2
# IRI's maxRequestsList: longer getBalances/findTransactions lists are refused.
MAX_REQUEST_LIST = 1000
HASH_LENGTH = 81
# Field offsets in the 2673 transaction trytes (PROTOCOLS.md).
TRANSACTION_TRYTES = 2673
_CURRENT_INDEX_SLICE = slice(2331, 2340)
BUNDLE_SLICE = slice(2349, 2430)
# A purpose is caller text: keep it from breaking the one-event-per-line key=value format.
LOG_UNSAFE = re.compile(r"[\s=\"]")
# A bundle being delivered for longer than this (its process died) may be taken over;
# sooner when its owner is known to be dead (see owner_is_dead).
DELIVERY_LEASE = 300.0
# Who is delivering a bundle: host, pid and a token of this process's life.
_PROCESS_TOKEN = secrets.token_hex(4)


def this_process() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{_PROCESS_TOKEN}"


def owner_is_dead(owner: str | None) -> bool:
    """True when ``owner`` ran on this host and that process is gone (a crash, SIGKILL)."""
    if not owner:
        return False
    host, _, rest = owner.partition(":")
    pid_text, _, token = rest.partition(":")
    if host != socket.gethostname()[:40] or not pid_text.isdigit():
        return False  # another host (container): only the lease tells
    pid = int(pid_text)
    if pid == os.getpid():
        return token != _PROCESS_TOKEN  # an earlier life of this pid (a restarted container)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


UNDELIVERED = ("signed", "sending", "failed")
# The purpose of an address waiting in the pool (replaced when it is handed out).
POOL_PURPOSE = "(pool)"


def check_purpose(purpose: str) -> None:
    if not isinstance(purpose, str) or not purpose:
        raise WalletError("purpose must be a non-empty string")
    if len(purpose) > 200:
        raise WalletError(f"purpose is {len(purpose)} characters, at most 200")


class WalletError(Exception):
    """A wallet operation refused or failed; the message says why (never the seed)."""


class InsufficientFunds(WalletError):
    """The confirmed, unspent balance does not cover a send."""

    def __init__(self, required: int, available: int) -> None:
        super().__init__(
            f"insufficient funds: need {required}, confirmed unspent balance is {available}"
        )
        self.required = required
        self.available = available


class NodeError(WalletError):
    """The node could not be reached or refused a request."""


@dataclass(frozen=True)
class SendResult:
    """What ``Wallet.send`` put on the tangle."""

    bundle_hash: str
    tail_hash: str
    value: int
    to: str
    inputs: list[str] = field(default_factory=list)
    remainder_address: str | None = None


def chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def short(address: str) -> str:
    return address[:12]


def tail_hash_of(attached: Sequence[str]) -> str:
    """Curl-P-81 hash of the transaction with currentIndex 0 among ``attached``."""
    tail = next((t for t in attached if t[_CURRENT_INDEX_SLICE] == "9" * 9), None)
    if tail is None or len(tail) != TRANSACTION_TRYTES:
        raise NodeError("attachToTangle returned no tail transaction")
    return trits_to_trytes(curl_hash(trytes_to_trits(tail)))
