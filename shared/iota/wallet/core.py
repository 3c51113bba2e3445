"""The wallet's base: its seed, node client and database, and what every part asks of them.

``WalletCore`` checks the constructor's arguments, upgrades the wallet's tables
(``shared.iota.wallet.tables.STORE``) and holds the one lock that serialises
everything that allocates addresses or spends. The parts of the wallet build on it
in one line, each using the ones below: addresses -> inputs -> journal -> sweep ->
the ``Wallet`` facade.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
from iota import Address, BadApiResponse, Iota, TransactionHash
from iota.adapter import BaseAdapter, HttpAdapter
from sqlalchemy import Engine, select

from shared.db import make_engine, make_sessionmaker
from shared.iota.curl import curl_hash
from shared.iota.signing import address_of
from shared.iota.validation import InvalidTrytes, validate_address, validate_seed
from shared.iota.wallet.common import (
    MAX_REQUEST_LIST,
    TRANSACTION_TRYTES,
    NodeError,
    WalletError,
    chunks,
)
from shared.iota.wallet.tables import STORE, WalletAddress, WalletSend, seed_fingerprint
from shared.migrations import upgrade

# Whether this process loaded the hashing kernels already (WalletCore.warm_up).
_warmed_up = False


class WalletCore:
    """A wallet's identity, node client, database and lock (see the module docstring)."""

    def __init__(
        self,
        seed: str,
        node_url: str,
        database_url: str | Engine,
        *,
        security: int = 2,
        depth: int = 3,
        min_weight_magnitude: int = 9,
        adapter: BaseAdapter | None = None,
        request_timeout: float = 60.0,
        check_node_for_reuse: bool = True,
    ) -> None:
        try:
            self._seed = validate_seed(seed)
        except InvalidTrytes as error:
            raise WalletError(str(error)) from None
        if security not in (1, 2, 3):
            raise WalletError(f"security must be 1, 2 or 3, got {security!r}")
        if not 1 <= depth <= 15:
            raise WalletError(f"depth must be between 1 and 15, got {depth!r}")
        if not 1 <= min_weight_magnitude <= 243:
            raise WalletError(f"min_weight_magnitude must be 1..243, got {min_weight_magnitude!r}")
        self.security = security
        self.depth = depth
        self.min_weight_magnitude = min_weight_magnitude
        self.node_url = node_url
        self.check_node_for_reuse = check_node_for_reuse
        self.wallet_id = seed_fingerprint(self._seed, security)
        if adapter is None:
            if not node_url.startswith(("http://", "https://")):
                raise WalletError(f"node_url must be an http(s) URL, got {node_url[:60]!r}")
            adapter = HttpAdapter(node_url, timeout=request_timeout)
        self._api = Iota(adapter)
        self._engine = (
            database_url if isinstance(database_url, Engine) else make_engine(database_url)
        )
        upgrade(self._engine, STORE)
        self._sessions = make_sessionmaker(self._engine)
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        # Never show the seed; the fingerprint prefix tells wallets apart in logs.
        return f"Wallet(id={self.wallet_id[:12]}, node={self.node_url!r})"

    def warm_up(self) -> None:
        """Load the compiled Kerl/Curl kernels now (once per process, about 0.5-1 s).

        Optional: otherwise the first ``new_address`` or ``send`` pays for it.
        Services call it from their lifespan (in a thread) so the first order
        does not. It derives a throwaway key of an all-9 seed, never this wallet's.
        """
        global _warmed_up
        if _warmed_up:
            # Once is enough: the kernels stay loaded. A fleet starts hundreds of wallets
            # in one process (issue 22), each warm-up ~40 ms of hashing.
            return
        address_of("9" * 81, 0, 1)
        curl_hash(np.zeros(TRANSACTION_TRYTES * 3, dtype=np.int8))
        _warmed_up = True

    def close(self) -> None:
        """Release the database connections (only those this wallet's engine owns)."""
        self._engine.dispose()

    def addresses(self) -> list[WalletAddress]:
        """Every address this wallet handed out or skipped, oldest first (for inspection)."""
        with self._sessions() as session:
            return list(
                session.scalars(
                    select(WalletAddress).where(self._mine()).order_by(WalletAddress.key_index)
                )
            )

    def is_spent(self, address: str) -> bool:
        """True if this wallet has signed with ``address`` (according to its database)."""
        plain = self._validate_address(address)
        with self._sessions() as session:
            spent = session.scalar(
                select(WalletAddress.spent).where(self._mine(), WalletAddress.address == plain)
            )
        return bool(spent)

    def _mine(self) -> Any:
        return (WalletAddress.wallet_id == self.wallet_id) & (
            WalletAddress.security == self.security
        )

    def _mine_sends(self) -> Any:
        return (WalletSend.wallet_id == self.wallet_id) & (WalletSend.security == self.security)

    def address_balance(self, address: str) -> int:
        """Confirmed balance of one address (any address, 81 or 90 trytes)."""
        plain = self._validate_address(address)
        return self._balances([plain])[plain]

    def address_balances(self, addresses: Sequence[str]) -> dict[str, int]:
        """Confirmed balances of many addresses in as few node calls as the node allows."""
        plain = [self._validate_address(a) for a in addresses]
        return self._balances(plain)

    def _balances(self, addresses: Sequence[str]) -> dict[str, int]:
        result: dict[str, int] = {}
        for chunk in chunks(list(addresses), MAX_REQUEST_LIST):
            reply = self._call("getBalances", self._api.get_balances, [Address(a) for a in chunk])
            for address, value in zip(chunk, reply["balances"], strict=True):
                result[address] = int(value)
        return result

    # -- helpers -------------------------------------------------------------

    def _validate_address(self, address: str, *, for_value: bool = False) -> str:
        try:
            return validate_address(address, for_value=for_value)
        except InvalidTrytes as error:
            raise WalletError(str(error)) from None

    def _spent_on_node(self, addresses: Sequence[str]) -> list[bool]:
        """wereAddressesSpentFrom: whether the node has seen a signature of each address."""
        reply = self._call(
            "wereAddressesSpentFrom",
            self._api.were_addresses_spent_from,
            [Address(a) for a in addresses],
        )
        return list(reply["states"])

    def _inclusion_states(self, tails: Sequence[str]) -> list[bool]:
        """getInclusionStates of transaction hashes: confirmed by a milestone or not."""
        reply = self._call(
            "getInclusionStates",
            self._api.get_inclusion_states,
            [TransactionHash(t) for t in tails],
            None,
        )
        return list(reply["states"])

    def _approve(self) -> dict[str, Any]:
        """getTransactionsToApprove at the wallet's depth: the tips a bundle is attached to."""
        reply: dict[str, Any] = self._call(
            "getTransactionsToApprove", self._api.get_transactions_to_approve, self.depth
        )
        return reply

    def _call(self, command: str, method: Any, *args: Any) -> Any:
        try:
            return method(*args)
        except BadApiResponse as error:
            raise NodeError(f"{command} refused by node: {error}") from None
        except WalletError:
            raise
        except Exception as error:
            raise NodeError(f"{command} failed: {type(error).__name__}: {error}") from None
