"""``python -m services.audit --devnet URL --service URL ...``: the economy audit.

Reads every named service's ``GET /books`` and the devnet's ``GET /economy``, attributes
every balance on the devnet (``shared.economy.audit_economy``), prints the table and exits
0 when every service's books equal its wallet and every token is accounted for, 1 when
not (the first line in red on a terminal), 2 when the devnet cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import httpx

from shared.economy import EconomyAudit, collect, render, wait_balanced
from shared.iota.signing import address_of
from shared.iota.validation import InvalidTrytes, validate_address, validate_seed

__all__ = ["external_wallets", "main", "parser"]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m services.audit",
        description="Prove that every service's books equal its wallet on the devnet and "
        "that wallets, escrows, the faucet and named external wallets hold the whole supply.",
    )
    p.add_argument("--devnet", required=True, help="the devnet's HTTP URL (GET /economy)")
    p.add_argument(
        "--service",
        action="append",
        default=[],
        metavar="URL",
        help="a service with a wallet (GET /books); repeat for each",
    )
    p.add_argument(
        "--external",
        action="append",
        default=[],
        metavar="NAME=ADDRESS",
        help="an address of a wallet outside the economy (a test's payer); repeatable",
    )
    p.add_argument(
        "--external-seed",
        action="append",
        default=[],
        metavar="NAME=SEED[:COUNT]",
        help="an outside wallet's seed: its first COUNT (default 20) security-2 addresses",
    )
    p.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="audit again until it passes or SECONDS pass (money in flight settles)",
    )
    return p


def external_wallets(addresses: Sequence[str], seeds: Sequence[str]) -> dict[str, list[str]]:
    """NAME -> addresses from ``--external`` and ``--external-seed``; ValueError names a
    bad one (never echoing a seed)."""
    wallets: dict[str, list[str]] = {}
    for item in addresses:
        name, sep, address = item.partition("=")
        if not sep or not name:
            raise ValueError(f"--external wants NAME=ADDRESS, got {item[:30]!r}")
        try:
            wallets.setdefault(name, []).append(validate_address(address))
        except InvalidTrytes as error:
            raise ValueError(f"--external {name}: {error}") from None
    for item in seeds:
        name, sep, rest = item.partition("=")
        seed, _, count_text = rest.partition(":")
        if not sep or not name:
            raise ValueError("--external-seed wants NAME=SEED[:COUNT]")
        try:
            plain = validate_seed(seed)
        except InvalidTrytes:
            raise ValueError(f"--external-seed {name}: not an 81-tryte seed") from None
        if count_text and (not count_text.isdigit() or not 1 <= int(count_text) <= 1000):
            raise ValueError(f"--external-seed {name}: COUNT must be 1..1000")
        count = int(count_text or 20)
        wallets.setdefault(name, []).extend(address_of(plain, i, 2) for i in range(count))
    return wallets


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        external = external_wallets(args.external, args.external_seed)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        audit: EconomyAudit
        if args.wait > 0:
            audit = wait_balanced(args.devnet, args.service, external, timeout=args.wait)
        else:
            audit = collect(args.devnet, args.service, external)
    except httpx.HTTPError as error:
        print(f"error: the devnet at {args.devnet} cannot be read: {error}", file=sys.stderr)
        return 2
    print(render(audit, color=sys.stdout.isatty()))
    return 0 if audit.passed else 1
