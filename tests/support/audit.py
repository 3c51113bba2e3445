"""The economy audit for integration tests: every money test ends with ``economy.check()``.

    economy = Economy(devnet.api_url)
    economy.add(robot.url, wind.url)              # services with a wallet (GET /books)
    economy.external("payer", [payer_address])    # a test's own PyOTA wallet
    ...                                           # move money
    economy.check()                               # books == wallet everywhere, supply whole

``check`` audits again until the audit passes (a payout in flight settles within a few
milestones) or ``timeout`` passes, then fails with the audit's table. A service about to
be stopped while the devnet lives on is ``retire``d: its addresses with a balance stay
attributed to it (``retired:<name>``), so later tests of the module still account for
every token.

``known`` names differences a test documents on purpose (a finding not fixed yet): the
audit must report exactly that difference for that service, so the test fails both while
another difference appears and once the finding is fixed (then the entry goes).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from shared.books import BooksReport, wallet_report
from shared.economy import EconomyAudit, collect, render

__all__ = ["Economy"]


def _acceptable(audit: EconomyAudit, known: Mapping[str, int]) -> bool:
    for row in audit.rows:
        if row.kind == "service":
            if row.books is None or row.difference != known.get(row.name, 0):
                return False
        elif not row.ok:
            return False
    return all(any(f.startswith(f"{name}: books ") for name in known) for f in audit.failures)


class Economy:
    """The services and outside wallets of one devnet (see the module docstring)."""

    def __init__(self, devnet_url: str) -> None:
        self.devnet_url = devnet_url
        self.services: list[str] = []
        self.outside: dict[str, list[str]] = {}
        self.wallets: dict[str, Any] = {}
        self.books_wallets: dict[str, Any] = {}

    def add(self, *urls: str) -> None:
        for url in urls:
            if url not in self.services:
                self.services.append(url)

    def external(self, name: str, addresses: Iterable[str]) -> None:
        self.outside.setdefault(name, []).extend(a[:81] for a in addresses)

    def wallet(self, name: str, wallet: Any) -> None:
        """A test's own ``shared.iota.wallet.Wallet`` (a payer, a stand-in producer): all
        its addresses, as they are when the audit runs, are an outside wallet."""
        self.wallets[name] = wallet

    def books_of(self, name: str, wallet: Any) -> None:
        """A test's own ``Wallet`` audited like a service: its books (what others paid
        it less what it sent, from its own records) must equal what it holds."""
        self.books_wallets[name] = wallet

    def external_addresses(self) -> dict[str, list[str]]:
        result = {name: list(addresses) for name, addresses in self.outside.items()}
        for name, wallet in self.wallets.items():
            result.setdefault(name, []).extend(row.address for row in wallet.addresses())
        return result

    def report(self, url: str) -> BooksReport:
        reply = httpx.get(url.rstrip("/") + "/books", timeout=30)
        reply.raise_for_status()
        return BooksReport.model_validate(reply.json())

    def audit(self) -> EconomyAudit:
        local = [
            wallet_report(name, wallet, self.devnet_url)
            for name, wallet in self.books_wallets.items()
        ]
        return collect(self.devnet_url, self.services, self.external_addresses(), reports=local)

    def check(
        self, *, timeout: float = 60.0, known: Mapping[str, int] | None = None
    ) -> EconomyAudit:
        """Audit until it passes (with ``known`` differences exactly) or fail with the table.

        60 s: money in flight settles within a few milestones (0.5-1 s each); on the
        loaded 2-core test machine a payout's PoW and confirmation can take 10-20 s.
        """
        known = dict(known or {})
        deadline = time.monotonic() + timeout
        while True:
            audit = self.audit()
            if _acceptable(audit, known):
                return audit
            if time.monotonic() > deadline:
                raise AssertionError(
                    "the economy audit failed"
                    + (f" (expected differences: {known})" if known else "")
                    + ":\n"
                    + render(audit)
                )
            time.sleep(1.0)

    def retire(self, url: str) -> None:
        """Stop auditing a service that is about to stop: its addresses with a balance
        stay attributed to it as an outside wallet (``retired:<name>``). Call it after
        the test's ``check`` (nothing in flight)."""
        if url not in self.services:
            return
        report = self.report(url)
        self.services.remove(url)
        self.external(f"retired:{report.service}", [h.address for h in report.addresses])
