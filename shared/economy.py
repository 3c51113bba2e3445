"""The economy audit (docs/audit.md): every address with a confirmed balance on the
devnet belongs to a service's wallet, a channel escrow, the faucet, or an external wallet
named by the caller; unattributed tokens fail, and the sum of all of them must equal the
supply. It is run by ``python -m services.audit``; tests call :func:`collect` /
:func:`wait_balanced` as a library. The books of one service, which it reads from each
service's ``GET /books``, are shared/books.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from shared.books import BooksReport

__all__ = [
    "EconomyAudit",
    "EconomyRow",
    "EconomySnapshot",
    "EscrowHolding",
    "audit_economy",
    "collect",
    "render",
    "wait_balanced",
]


@dataclass(frozen=True, slots=True)
class EscrowHolding:
    address: str
    channel_id: str
    period: int
    balance: int
    books: int  # what the channel agent's state says the escrow holds


@dataclass(frozen=True, slots=True)
class EconomySnapshot:
    """The devnet's ``GET /economy``."""

    supply: int
    total: int
    milestone: int
    faucet: dict[str, int]  # address -> balance
    escrows: list[EscrowHolding]
    balances: dict[str, int]  # every non-zero confirmed balance

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> EconomySnapshot:
        return cls(
            supply=int(body["supply"]),
            total=int(body["total"]),
            milestone=int(body["milestone"]),
            faucet={a["address"]: int(a["balance"]) for a in body["faucet"]["addresses"]},
            escrows=[
                EscrowHolding(
                    e["address"],
                    e["channel_id"],
                    int(e["period"]),
                    int(e["balance"]),
                    int(e["books"]),
                )
                for e in body["escrows"]
            ],
            balances={b["address"]: int(b["balance"]) for b in body["balances"]},
        )


@dataclass
class EconomyRow:
    """One line of the audit table."""

    kind: str  # service, escrows, faucet, external, unattributed
    name: str
    holds: int  # tokens on the devnet attributed to it (devnet's balances)
    books: int | None = None
    wallet: int | None = None
    difference: int = 0
    stranded: int = 0
    ok: bool = True
    note: str = ""


@dataclass
class EconomyAudit:
    supply: int
    total: int
    attributed: int
    milestone: int
    rows: list[EconomyRow] = field(default_factory=list)
    unattributed: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    def row(self, name: str) -> EconomyRow:
        return next(r for r in self.rows if r.name == name)


def audit_economy(
    snapshot: EconomySnapshot,
    reports: Sequence[BooksReport],
    external: Mapping[str, Iterable[str]] = {},
    *,
    unreachable: Mapping[str, str] = {},
) -> EconomyAudit:
    """Attribute every devnet balance and check every service's books (pure)."""
    audit = EconomyAudit(snapshot.supply, snapshot.total, 0, snapshot.milestone)
    owner: dict[str, str] = {}

    def claim(address: str, name: str) -> None:
        if address in owner and owner[address] != name:
            audit.failures.append(f"{address[:12]}... is claimed by {owner[address]} and {name}")
        owner.setdefault(address, name)

    for address in snapshot.faucet:
        claim(address, "faucet")
    for escrow in snapshot.escrows:
        claim(escrow.address, "escrows")
    for report in reports:
        for holding in report.addresses:
            claim(holding.address, report.service)
    for name, addresses in external.items():
        for address in addresses:
            claim(address[:81], f"external:{name}")

    held: dict[str, int] = {}
    for address, balance in snapshot.balances.items():
        holder = owner.get(address)
        if holder is None:
            audit.unattributed[address] = balance
        else:
            held[holder] = held.get(holder, 0) + balance

    for report in reports:
        ok = report.balanced
        note = []
        if report.stranded:
            note.append(f"{report.stranded} stranded at spent addresses")
        if report.in_flight:
            note.append(f"{report.in_flight} bundles in flight")
        if report.unconfirmed_incoming:
            note.append(f"{report.unconfirmed_incoming} incoming unconfirmed")
        audit.rows.append(
            EconomyRow(
                "service",
                report.service,
                held.get(report.service, 0),
                report.books,
                report.wallet,
                report.difference,
                report.stranded,
                ok,
                "; ".join(note),
            )
        )
        if not ok:
            audit.failures.append(
                f"{report.service}: books {report.books} but wallet {report.wallet} "
                f"(difference {report.difference:+d}"
                + (f", {report.stranded} stranded at spent addresses" if report.stranded else "")
                + ")"
            )
    for name, reason in unreachable.items():
        audit.rows.append(EconomyRow("service", name, 0, ok=False, note=reason))
        audit.failures.append(f"{name}: no books ({reason})")

    escrow_books = sum(e.books for e in snapshot.escrows)
    escrow_balance = sum(e.balance for e in snapshot.escrows)
    wrong = [e for e in snapshot.escrows if e.books != e.balance]
    audit.rows.append(
        EconomyRow(
            "escrows",
            "escrows",
            held.get("escrows", 0),
            escrow_books,
            escrow_balance,
            escrow_balance - escrow_books,
            ok=not wrong,
            note=f"{len(snapshot.escrows)} escrows",
        )
    )
    for escrow in wrong:
        audit.failures.append(
            f"escrow {escrow.address[:12]}... (channel {escrow.channel_id[:12]}, period "
            f"{escrow.period}): the agent's books say {escrow.books}, it holds {escrow.balance}"
        )
    audit.rows.append(EconomyRow("faucet", "faucet", held.get("faucet", 0)))
    for name in external:
        key = f"external:{name}"
        audit.rows.append(EconomyRow("external", key, held.get(key, 0)))
    if audit.unattributed:
        total = sum(audit.unattributed.values())
        audit.rows.append(
            EconomyRow(
                "unattributed",
                "unattributed",
                total,
                ok=False,
                note=f"{len(audit.unattributed)} addresses",
            )
        )
        audit.failures.append(
            f"{total} tokens on {len(audit.unattributed)} addresses belong to no wallet, "
            "escrow, faucet or named external wallet: "
            + ", ".join(f"{a[:12]}...={v}" for a, v in sorted(audit.unattributed.items())[:5])
        )
    audit.attributed = sum(held.values())
    if snapshot.total != snapshot.supply:
        audit.failures.append(
            f"the devnet's balances add up to {snapshot.total}, the supply is {snapshot.supply}"
        )
    if audit.attributed + sum(audit.unattributed.values()) != snapshot.supply:
        audit.failures.append(
            f"wallets, escrows, faucet and externals hold {audit.attributed}, "
            f"the supply is {snapshot.supply}"
        )
    return audit


def render(audit: EconomyAudit, *, color: bool = False) -> str:
    """The audit as a table; the first line says PASSED or FAILED (red on a TTY)."""
    verdict = (
        "economy audit PASSED"
        if audit.passed
        else f"economy audit FAILED: {len(audit.failures)} problem(s)"
    )
    if color and not audit.passed:
        verdict = f"\x1b[31m{verdict}\x1b[0m"
    lines = [verdict, f"milestone {audit.milestone}, supply {audit.supply}"]

    def cell(value: int | None) -> str:
        return "-" if value is None else str(value)

    header = ("", "name", "on devnet", "books", "wallet", "difference", "note")
    body = [
        (
            "ok" if r.ok else "XX",
            r.name,
            str(r.holds),
            cell(r.books),
            cell(r.wallet),
            f"{r.difference:+d}" if r.books is not None else "-",
            r.note,
        )
        for r in audit.rows
    ]
    body.append(
        (
            "ok" if audit.passed else "XX",
            "total",
            str(audit.attributed + sum(audit.unattributed.values())),
            "",
            "",
            "",
            f"supply {audit.supply}",
        )
    )
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    for row in [header, *body]:
        lines.append(
            "  ".join(
                c.ljust(w) if i in (0, 1, 6) else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
    lines += [f"- {failure}" for failure in audit.failures]
    return "\n".join(lines)


# -- collecting it over HTTP ---------------------------------------------------------


def collect(
    devnet_url: str,
    service_urls: Sequence[str],
    external: Mapping[str, Iterable[str]] = {},
    *,
    timeout: float = 30.0,
    reports: Sequence[BooksReport] = (),
) -> EconomyAudit:
    """Read every service's ``/books`` and the devnet's ``/economy``; audit them (with
    ``reports`` made by the caller, e.g. of a wallet it holds: :func:`wallet_report`)."""
    reports = list(reports)
    unreachable: dict[str, str] = {}
    with httpx.Client(timeout=timeout) as client:
        for url in service_urls:
            try:
                reply = client.get(url.rstrip("/") + "/books")
            except httpx.HTTPError as error:
                unreachable[url] = f"unreachable: {type(error).__name__}"
                continue
            if reply.status_code != 200:
                unreachable[url] = f"HTTP {reply.status_code}: {reply.text[:200]}"
                continue
            reports.append(BooksReport.model_validate(reply.json()))
        # The devnet last: an address a service handed out before is known to it by now.
        economy = client.get(devnet_url.rstrip("/") + "/economy")
        economy.raise_for_status()
    snapshot = EconomySnapshot.from_json(economy.json())
    return audit_economy(snapshot, reports, external, unreachable=unreachable)


def wait_balanced(
    devnet_url: str,
    service_urls: Sequence[str],
    external: Mapping[str, Iterable[str]] = {},
    *,
    timeout: float = 60.0,
    interval: float = 1.0,
) -> EconomyAudit:
    """:func:`collect` until it passes or ``timeout`` (money in flight settles within a
    few milestones); the last audit either way."""
    deadline = time.monotonic() + timeout
    while True:
        audit = collect(devnet_url, service_urls, external)
        if audit.passed or time.monotonic() > deadline:
            return audit
        time.sleep(interval)
