"""Benchmark of the shared wallet against a real devnet: new_address and send, split by step.

Starts a devnet (``python -m services.devnet``) on free ports in a temporary
directory, funds one wallet per security level and prints, per level, the
median of ``--rounds`` runs:

* ``new_address``: key derivation + the node's reuse check + the database write;
* ``send`` (value transfer with a remainder) split into
  ``local`` (choosing inputs, the remainder address, building and signing the
  bundle, database writes: everything but the node calls), ``lookups`` (the
  node calls made on the way: getBalances, wereAddressesSpentFrom,
  findTransactions), ``gtta`` (getTransactionsToApprove), ``attach``
  (attachToTangle: the node's PoW) and ``store`` (broadcastTransactions +
  storeTransactions).

``--wallet-module path/to/wallet.py`` benchmarks another implementation with
the same interface (for before/after figures, e.g. the PyOTA-only wallet from
git history). Usage::

    uv run python bench/wallet/bench_wallet.py --rounds 5 --security 1 2 3
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from iota.adapter import BaseAdapter, HttpAdapter  # noqa: E402

from bench.calibration import calibration_line  # noqa: E402
from shared.iota.validation import with_checksum  # noqa: E402
from tests.support.devnet import DevnetProcess  # noqa: E402

LOOKUPS = ("getBalances", "wereAddressesSpentFrom", "findTransactions")
STORE = ("broadcastTransactions", "storeTransactions")


class TimingAdapter(BaseAdapter):
    """Forwards to an HttpAdapter and adds up the seconds spent per IRI command."""

    supported_protocols = ()

    def __init__(self, url: str) -> None:
        super().__init__()
        self._inner = HttpAdapter(url, timeout=60)
        self.seconds: dict[str, float] = defaultdict(float)

    def get_uri(self) -> str:
        return self._inner.get_uri()

    def send_request(self, payload: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            result: dict[str, Any] = self._inner.send_request(payload, **kwargs)
            return result
        finally:
            self.seconds[payload["command"]] += time.perf_counter() - started

    def take(self) -> dict[str, float]:
        taken = dict(self.seconds)
        self.seconds.clear()
        return taken


def load_wallet_module(path: str | None) -> ModuleType:
    if path is None:
        import shared.iota.wallet as module

        return module
    spec = importlib.util.spec_from_file_location("bench_wallet_under_test", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def wait_for_balance(wallet: Any, expected: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while wallet.balance() != expected:
        if time.monotonic() > deadline:
            raise SystemExit(f"balance never reached {expected}")
        time.sleep(0.2)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f}"


def bench_level(
    module: ModuleType, devnet: DevnetProcess, db_url: str, security: int, rounds: int
) -> dict[str, float]:
    level = "9ABC"[security]  # seeds are trytes: no digits
    seed = f"BENCH9WALLET9SECURITY{level}".ljust(81, "9")
    sink_seed = f"BENCH9SINK9SECURITY{level}".ljust(81, "9")
    adapter = TimingAdapter(devnet.api_url)
    wallet = module.Wallet(
        seed, devnet.api_url, db_url, security=security, adapter=adapter, min_weight_magnitude=9
    )
    sink = module.Wallet(sink_seed, devnet.api_url, db_url, security=security)

    started = time.perf_counter()
    deposit = wallet.deposit_address()  # the first one pays for loading compiled kernels
    cold = time.perf_counter() - started
    devnet.faucet(with_checksum(deposit), 10_000)
    wait_for_balance(wallet, 10_000)

    address_times = []
    for n in range(rounds):
        started = time.perf_counter()
        wallet.new_address(f"bench:{n}")
        address_times.append(time.perf_counter() - started)

    to = sink.new_address("bench-sink")
    parts: dict[str, list[float]] = defaultdict(list)
    balance = 10_000
    for _ in range(rounds):
        adapter.take()
        started = time.perf_counter()
        result = wallet.send(1, to, tag="BENCH")
        total = time.perf_counter() - started
        node = adapter.take()
        lookups = sum(node.get(c, 0.0) for c in LOOKUPS)
        parts["send"].append(total)
        parts["local"].append(total - sum(node.values()))
        parts["lookups"].append(lookups)
        parts["gtta"].append(node.get("getTransactionsToApprove", 0.0))
        parts["attach"].append(node.get("attachToTangle", 0.0))
        parts["store"].append(sum(node.get(c, 0.0) for c in STORE))
        parts["calls"].append(float(len(node)))
        balance -= 1
        # The next send needs the remainder confirmed (only confirmed funds are spent).
        if not wallet.wait_until_confirmed(result.tail_hash, timeout=60, poll_interval=0.1):
            raise SystemExit("send not confirmed within 60 s")
        wait_for_balance(wallet, balance)
    wallet.close()
    sink.close()
    row = {name: statistics.median(values) for name, values in parts.items()}
    row["cold"] = cold
    row["new_address"] = statistics.median(address_times)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--security", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--wallet-module", help="benchmark this wallet.py instead")
    args = parser.parse_args()
    module = load_wallet_module(args.wallet_module)
    with tempfile.TemporaryDirectory(prefix="bench-wallet-") as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'wallets.db'}"
        with DevnetProcess(Path(tmp) / "devnet", milestone_interval=0.5) as devnet:
            rows = {s: bench_level(module, devnet, db_url, s, args.rounds) for s in args.security}
    print(calibration_line())
    print(f"wallet: {args.wallet_module or 'shared.iota.wallet'}; median of {args.rounds} (ms)")
    header = (
        f"{'sec':>3} {'1st addr':>8} {'new_addr':>8} {'send':>8} {'local':>8} {'lookups':>8}"
        f" {'gtta':>8} {'attach':>8} {'store':>8} {'calls':>5}"
    )
    print(header)
    print("-" * len(header))
    for security, row in rows.items():
        print(
            f"{security:>3} {ms(row['cold'])} {ms(row['new_address'])} {ms(row['send'])}"
            f" {ms(row['local'])} {ms(row['lookups'])} {ms(row['gtta'])} {ms(row['attach'])}"
            f" {ms(row['store'])} {int(row['calls']):>5}"
        )


if __name__ == "__main__":
    main()
