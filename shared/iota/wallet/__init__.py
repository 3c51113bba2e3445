"""The IOTA wallet every machine shares: one seed, persistent key indexes, safe value transfers.

The wallet is synchronous (PyOTA 2.1.0 is) and thread-safe: one lock serialises
everything that allocates addresses or spends. Async code calls it through
``asyncio.to_thread``.

PyOTA only talks to the node here. Keys, addresses and signatures come from
the numba Kerl/WOTS code in ``shared.iota.signing`` and bundles from
``shared.iota.wallet_bundle`` (the bundle PyOTA's ProposedBundle builds, M-bug
tag bump included; tests/unit/test_wallet_fastpath.py compares them with PyOTA
trit for trit): PyOTA's pure-Python Kerl took about 0.3 s per address and a
second or more per security-2 signature.

What it remembers lives in SQL tables keyed by a fingerprint of the seed (a
SHA-256 of it, never the seed itself) so that several wallets can share one
database. A row is written *before* an address is handed out and an input is
flagged spent *before* its signature leaves the process, so a crash (even SIGKILL)
can strand funds on an address the wallet no longer spends from, but can never
make it hand out an address twice or sign with a key twice.

The package, one part a module, each built on the ones before it:

| Module | What it does |
| --- | --- |
| ``common`` | errors, ``SendResult``, limits, who a process is |
| ``tables`` | ``wallet_addresses``, ``wallet_sends``, the ``STORE`` (migrations) |
| ``core`` | arguments, node calls, the database, balances of addresses |
| ``addresses`` | fresh addresses, the pool, reservations, the deposit address |
| ``inputs`` | choosing and claiming inputs (conditional UPDATEs), orphaned claims |
| ``journal`` | signed bundles recorded before they leave, (re)attached once |
| ``sweep`` | holding payment addresses and sweeping each once |
| ``facade`` | ``Wallet``: send, balances, confirmation |

Import from here (``from shared.iota.wallet import Wallet, WalletError, ...``).
"""

from shared.iota.wallet.common import (
    MAX_SUPPLY,
    InsufficientFunds,
    NodeError,
    SendResult,
    WalletError,
)
from shared.iota.wallet.facade import Wallet
from shared.iota.wallet.tables import STORE, WalletAddress, WalletSend, _Base, seed_fingerprint

__all__ = [
    "MAX_SUPPLY",
    "STORE",
    "InsufficientFunds",
    "NodeError",
    "SendResult",
    "Wallet",
    "WalletAddress",
    "WalletError",
    "WalletSend",
    "_Base",
    "seed_fingerprint",
]
