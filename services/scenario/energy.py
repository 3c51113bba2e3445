"""The energy market of a scenario run: the services' settings, the slices the run must
settle, and the figures the report shows, all read from the services' own APIs.

The grid prices a slice once it ended and its producers quoted it, bills each buyer
(household or battery) on its return channel, and the buyer pays on the devnet. The run's
slices are those that start after every machine was up and end within the duration; the
audit asks that the grid priced each of them and that every request it billed up to the
last of them was paid and confirmed (``wait_settled``).

Slices are wall-clock Unix milliseconds aligned to the slice length (shared/energy/slices.py).
The energy clock starts at ``epoch_ms``, a slice boundary the runner picks before it starts
the machines, so slice ``(start - epoch_ms) // slice_ms`` has the kWh the plan computed.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from services.scenario.plan import MachinePlan, Plan, setting_value

__all__ = ["EnergyFigures", "energy_env", "read_figures", "wait_quiet_grid", "wait_settled"]

BUYERS = ("consumer", "battery")


def energy_env(
    machine: MachinePlan,
    plan: Plan,
    urls: dict[str, str],
    *,
    epoch_ms: int,
    faucet_url: str,
    faucet_token: str,
) -> dict[str, str]:
    """The settings of an energy party (grid, producer, source, household, battery) beyond
    the ones every machine gets (name, seed, port, node, data dir)."""
    real_slice = plan.slice_seconds / plan.time_scale
    grid = next((m for m in plan.machines if m.kind == "grid"), None)
    env = {
        "SLICE_SECONDS": setting_value(plan.slice_ms / 1000),
        # the energy services read faster than the default once a second: short slices
        "POLL_SECONDS": f"{min(1.0, max(0.2, real_slice / 10)):g}",
        **machine.settings,
    }
    if machine.kind == "grid":
        env.update(
            {
                "SETTLE_DELAY_SECONDS": f"{min(1.0, real_slice / 5):g}",
                "PAYOUT_INTERVAL_SECONDS": "0.5",
                "PAYMENT_SCAN_SECONDS": "2",
                # a request's address is held this long for the buyer's payment, then swept
                # and the producers paid from it: shorter than the grid's 120 s so payouts
                # follow within the run, long enough for a buyer on a loaded machine (a
                # payment after the sweep is late: never counted, docs/grid.md)
                "PAYMENT_ADDRESS_HOLD_SECONDS": f"{max(60.0, 6 * real_slice):g}",
                "ADDRESS_POOL_SIZE": str(max(20, 2 * sum(m.kind in BUYERS for m in plan.machines))),
                # the grid's default, said here: the runner waits it out at the end
                "QUOTE_GRACE_SECONDS": f"{quote_grace(plan):g}",
            }
        )
        return env
    if grid is not None and machine.kind in ("producer", *BUYERS):
        env["GRID_URL"] = urls[grid.name]
    if machine.kind in BUYERS:
        env.update({"FAUCET_URL": faucet_url, "FAUCET_TOKEN": faucet_token})
    if machine.kind in ("wind", "solar", "consumer"):
        # the models' clock: the same simulated span for slice k in every run
        env.update(
            {
                "TIME_SCALE": setting_value(plan.time_scale),
                "SIM_SEED": str(machine.sim_seed),
                "SIM_START_HOUR": setting_value(plan.start_hour),
                "SIM_EPOCH_MS": str(epoch_ms),
            }
        )
    if machine.producer is not None:
        env["PRODUCER_URL"] = urls[machine.producer]
    return env


def quote_grace(plan: Plan) -> float:
    """How long the grid waits for a missing quote (its default: two slices, at least 30 s)."""
    return max(30.0, 2 * plan.slice_ms / 1000)


def _get(url: str, timeout: float = 10) -> Any:
    reply = httpx.get(url, timeout=timeout)
    reply.raise_for_status()
    return reply.json()


@dataclass
class EnergyFigures:
    """What the run's energy market did, read from the services at the end."""

    epoch_ms: int
    slice_ms: int
    first_ms: int  # start of the run's first slice
    cutoff_ms: int  # end of its last slice
    prices: dict[int, dict[str, Any]] = field(default_factory=dict)  # startTime -> /prices row
    kwh: dict[str, dict[int, float]] = field(default_factory=dict)  # machine -> start -> kWh
    sold: dict[str, dict[int, float]] = field(default_factory=dict)  # batteries' offers
    batteries: dict[str, dict[str, Any]] = field(default_factory=dict)  # GET /battery
    grid: dict[str, Any] = field(default_factory=dict)  # GET /accounts (final)
    registration: dict[str, str] = field(default_factory=dict)  # machine -> registration id
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def index(self, start_ms: int) -> int:
        return (start_ms - self.epoch_ms) // self.slice_ms

    def run_slices(self) -> list[int]:
        return list(range(self.first_ms, self.cutoff_ms, self.slice_ms))


def collect_prices(grid_url: str, into: dict[int, dict[str, Any]]) -> None:
    """Add the grid's settled slices (its last 100) to ``into``; called at every sample so
    a long run keeps them all."""
    with contextlib.suppress(httpx.HTTPError, ValueError):
        for row in _get(grid_url + "/prices"):
            into[int(row["startTime"])] = row


def wait_settled(figures: EnergyFigures, grid_url: str, deadline: float, poll: float = 1.0) -> None:
    """Wait until the grid priced every slice of the run and each buyer paid (confirmed)
    what the grid had billed by then; what is still missing at ``deadline`` is a failure."""
    wanted = figures.run_slices()
    while True:
        collect_prices(grid_url, figures.prices)
        if all(s in figures.prices for s in wanted) or time.monotonic() > deadline:
            break
        time.sleep(poll)
    missing = [s for s in wanted if s not in figures.prices]
    if missing:
        figures.failures.append(
            f"{len(missing)} slice(s) of the run were not settled by the grid "
            f"(first at energy slice {figures.index(missing[0])})"
        )
        return
    # every slice of the run is billed now: what was requested so far must be paid
    billed = {c: int(a["requested"]) for c, a in _get(grid_url + "/accounts")["consumers"].items()}
    while True:
        consumers = _get(grid_url + "/accounts")["consumers"]
        short = {c: billed[c] - int(consumers[c]["paid"]) for c in billed}
        short = {c: v for c, v in short.items() if v > 0}
        if not short or time.monotonic() > deadline:
            break
        time.sleep(poll)
    if short:
        figures.failures.append(
            "buyers did not pay what the grid billed for the run's slices: "
            + ", ".join(f"{c} short {v}" for c, v in sorted(short.items()))
        )
    late = [figures.index(s) for s in wanted if figures.prices[s].get("missingQuotes")]
    if late:
        figures.notes.append(f"slices priced without some producers' quotes: {late}")


def wait_quiet_grid(
    grid_url: str, plan: Plan, deadline: float, poll: float = 2.0
) -> dict[str, Any]:
    """The grid's ``/accounts`` once nothing moves any more, after its buyers and sellers
    were stopped: no payment pending, no payout due, the same books twice in a row.

    The grid may still bill usage it reads late (a buyer's last message is on the tangle
    after the buyer stopped) when it prices the slices that ended before the stop, which
    waits for their missing quotes up to the grace period: so the books are read only after
    that grace and two slices more."""
    settle_after = time.monotonic() + quote_grace(plan) + 2 * plan.slice_ms / 1000 + 2
    while time.monotonic() < min(settle_after, deadline):
        time.sleep(poll)
    previous: dict[str, Any] | None = None
    while True:
        accounts = _get(grid_url + "/accounts")
        settled = all(int(c["pending"]) == 0 for c in accounts["consumers"].values()) and all(
            int(p["due"]) == 0 for p in accounts["producers"].values()
        )
        if (settled and accounts == previous) or time.monotonic() > deadline:
            return dict(accounts)
        previous = accounts
        time.sleep(poll)


def read_figures(figures: EnergyFigures, plan: Plan, urls: dict[str, str]) -> None:
    """Each party's energy per slice of the run and the batteries' state (their APIs)."""
    run = set(figures.run_slices())
    for machine in plan.machines:
        url = urls[machine.name]
        try:
            if machine.kind in ("producer", "consumer", "battery"):
                figures.registration[machine.name] = str(_get(url + "/channel")["registrationId"])
            if machine.kind in BUYERS:
                rows = _get(url + "/usage?limit=500")["usage"]
                figures.kwh[machine.name] = {
                    int(r["startTime"]): float(r["usage"])
                    for r in rows
                    if int(r["startTime"]) in run
                }
            if machine.kind in ("producer", "battery"):
                rows = _get(url + "/slices?limit=500")["slices"]
                target = figures.sold if machine.kind == "battery" else figures.kwh
                target[machine.name] = {
                    int(r["startTime"]): float(r["output"])
                    for r in rows
                    if int(r["startTime"]) in run
                }
            if machine.kind == "battery":
                figures.batteries[machine.name] = dict(_get(url + "/battery"))
        except (httpx.HTTPError, ValueError, KeyError) as error:
            figures.failures.append(
                f"{machine.name}: its energy figures could not be read: {error}"
            )
