"""The run folder: ``summary.json`` (every figure), ``events.csv`` (every event), ``audit.txt``
and ``report.html`` (plotly charts and the summary table; the audit first, red when it failed).

The HTML embeds plotly.js from the plotly wheel, so the report opens offline.
"""

from __future__ import annotations

import csv
import dataclasses
import html
import json
import statistics
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.io import to_html

from services.scenario.energy_report import energy_charts, energy_summary
from services.scenario.runner import RunResult

__all__ = ["summarize", "write_run_folder"]


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return round(ordered[index], 3)


def summarize(result: RunResult) -> dict[str, Any]:
    """Every figure of the report, as summary.json holds it."""
    events = result.events
    latencies = [e.latency for e in events if e.kind == "order_done" and e.latency is not None]
    kinds: dict[str, int] = {}
    for event in events:
        kinds[event.kind] = kinds.get(event.kind, 0) + 1
    paid = sum(e.value for e in events if e.kind == "order_paid")
    milestones = [s["milestone"] for s in result.samples if "milestone" in s]
    rss = {
        key.split(":", 1)[1]: max(s.get(key, 0.0) for s in result.samples)
        for key in {k for s in result.samples for k in s if k.startswith("rss_mb:")}
    }
    machines: dict[str, Any] = {}
    for machine in result.plan.machines:
        books = result.books.get(machine.name, {})
        machines[machine.name] = {
            "kind": machine.kind,
            "provider": machine.provider,
            "payment": machine.payment if machine.kind == "robot" else None,
            "books": books.get("books"),
            "wallet": books.get("wallet"),
            "balanced": books.get("balanced"),
            "orders_done": sum(
                1 for e in events if e.kind == "order_done" and e.machine == machine.name
            ),
            "peak_rss_mb": rss.get(machine.name),
        }
    energy = energy_summary(result.energy, result.plan) if result.energy is not None else None
    return {
        "scenario": result.scenario.name,
        "seed": result.scenario.seed,
        "interrupted": result.interrupted,
        "simulated_seconds": result.scenario.duration,
        "time_scale": result.scenario.clock.time_scale,
        "real_seconds": round(result.real_seconds, 2),
        "machines_started": len(result.plan.machines),
        "start_seconds": round(result.started_seconds, 2),
        "orders": {
            "planned": len(result.plan.arrivals),
            "placed": kinds.get("order_placed", 0),
            "paid": kinds.get("order_paid", 0),
            "done": kinds.get("order_done", 0),
            "failed": kinds.get("order_failed", 0),
            "expired": kinds.get("order_expired", 0),
            "unfinished": kinds.get("order_unfinished", 0),
            "customer_errors": kinds.get("error", 0),
            "paid_tokens": paid,
            "latency_p50_s": _percentile(latencies, 50),
            "latency_p99_s": _percentile(latencies, 99),
            "latency_mean_s": round(statistics.fmean(latencies), 3) if latencies else None,
            "done_per_second": round(kinds.get("order_done", 0) / result.real_seconds, 3)
            if result.real_seconds > 0
            else 0.0,
        },
        "devnet": {
            "milestones": (milestones[-1] - milestones[0]) if len(milestones) > 1 else 0,
            "peak_rss_mb": rss.get("devnet"),
        },
        "memory": {
            "peak_total_mb": round(sum(rss.values()), 1),
            "peak_per_machine_mb": round(
                sum(v for k, v in rss.items() if k != "devnet") / max(1, len(machines)), 1
            ),
        },
        "machines": machines,
        "energy": energy,
        "audit": _audit(result, kinds, energy),
    }


def _audit(
    result: RunResult, kinds: dict[str, int], energy: dict[str, Any] | None
) -> dict[str, Any]:
    """The economy audit plus the run's own: every paid order reached an end, and every
    slice of the run was settled and paid."""
    audit = result.audit
    failures = list(audit.failures) if audit is not None else [result.audit_text]
    ended = sum(kinds.get(f"order_{state}", 0) for state in ("done", "failed", "expired"))
    unfinished = kinds.get("order_paid", 0) - ended
    if unfinished:
        failures.append(
            f"{unfinished} paid order(s) did not finish within the drain "
            "(--drain seconds after the duration)"
        )
    slice_failures = list(energy["failures"]) if energy is not None else []
    failures += slice_failures
    return {
        "passed": bool(
            audit is not None and audit.passed and not unfinished and not slice_failures
        ),
        "economy_passed": bool(audit is not None and audit.passed),
        "slices_settled": not slice_failures if energy is not None else None,
        "paid_orders_unfinished": unfinished,
        "supply": audit.supply if audit is not None else None,
        "total": audit.total if audit is not None else None,
        "failures": failures,
    }


def _charts(result: RunResult, summary: dict[str, Any]) -> list[go.Figure]:
    samples = result.samples
    x = [s["simulated"] / 3600 for s in samples]
    figures = []

    balances = go.Figure(layout={"title": "Wallet balances (iota)", "xaxis_title": "hours"})
    for machine in result.plan.machines:
        key = f"wallet:{machine.name}"
        balances.add_scatter(x=x, y=[s.get(key) for s in samples], name=machine.name)
    figures.append(balances)

    orders = go.Figure(layout={"title": "Orders", "xaxis_title": "hours"})
    for counter in ("placed", "done", "failed", "errors"):
        orders.add_scatter(x=x, y=[s.get(f"count:{counter}") for s in samples], name=counter)
    figures.append(orders)

    done = [e for e in result.events if e.kind == "order_done" and e.latency is not None]
    latency = go.Figure(
        layout={"title": "Order latency, placed to done (real s)", "xaxis_title": "hours"}
    )
    latency.add_scatter(
        x=[e.simulated / 3600 for e in done],
        y=[e.latency for e in done],
        mode="markers",
        name="order",
    )
    figures.append(latency)

    milestones = go.Figure(layout={"title": "Devnet milestones", "xaxis_title": "hours"})
    milestones.add_scatter(x=x, y=[s.get("milestone") for s in samples], name="milestone")
    figures.append(milestones)

    memory = go.Figure(layout={"title": "Memory per process (MB)", "xaxis_title": "hours"})
    cpu = go.Figure(layout={"title": "CPU seconds per process", "xaxis_title": "hours"})
    for name in ["devnet", *(m.name for m in result.plan.machines)]:
        memory.add_scatter(x=x, y=[s.get(f"rss_mb:{name}") for s in samples], name=name)
        cpu.add_scatter(x=x, y=[s.get(f"cpu_s:{name}") for s in samples], name=name)
    figures += [memory, cpu]
    if summary.get("energy"):
        figures += energy_charts(summary["energy"], samples)
    return figures


def _table(summary: dict[str, Any]) -> str:
    rows = []
    for section in ("orders", "devnet", "memory"):
        for key, value in summary[section].items():
            rows.append(f"<tr><td>{section}.{key}</td><td>{html.escape(str(value))}</td></tr>")
    energy = summary.get("energy") or {}
    for key in ("slices", "settled", "price_mean", "price_min", "price_max", "grid"):
        if energy:
            rows.append(f"<tr><td>energy.{key}</td><td>{html.escape(str(energy[key]))}</td></tr>")
    for name, entry in energy.get("participants", {}).items():
        extra = (
            f", bought {entry['bought_kwh']} kWh, sold {entry['sold_kwh']} kWh"
            if entry["kind"] == "battery"
            else ""
        )
        rows.append(
            f"<tr><td>{html.escape(name)}</td><td>{entry['kind']}: "
            f"{entry['total_kwh']} kWh in the run's slices{extra}</td></tr>"
        )
    for name, machine in summary["machines"].items():
        rows.append(
            f"<tr><td>{html.escape(name)}</td><td>{machine['kind']}: books "
            f"{machine['books']}, wallet {machine['wallet']}, orders done "
            f"{machine['orders_done']}</td></tr>"
        )
    return "<table>" + "".join(rows) + "</table>"


def _html(result: RunResult, summary: dict[str, Any]) -> str:
    passed = summary["audit"]["passed"]
    colour = "#1a7f37" if passed else "#c62828"
    headline = "audit passed" if passed else "AUDIT FAILED"
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(summary['scenario'])}: scenario report</title>",
        "<style>body{font-family:sans-serif;margin:2em}td{padding:2px 12px}"
        "pre{background:#f6f6f6;padding:1em}</style></head><body>",
        f"<h1 style='color:{colour}'>{html.escape(summary['scenario'])}: {headline}</h1>",
    ]
    if summary["interrupted"]:
        parts.append("<p><b>The run was interrupted (Ctrl-C) before its duration.</b></p>")
    for failure in summary["audit"]["failures"]:
        parts.append(f"<p style='color:{colour}'>{html.escape(failure)}</p>")
    parts.append(f"<pre>{html.escape(result.audit_text)}</pre>")
    parts.append(_table(summary))
    first = True
    for figure in _charts(result, summary):
        parts.append(to_html(figure, full_html=False, include_plotlyjs=first))
        first = False
    parts.append("</body></html>")
    return "\n".join(parts)


def _slices_text(summary: dict[str, Any]) -> str:
    energy = summary.get("energy")
    if not energy:
        return ""
    lines = [
        f"every slice settled: {energy['settled']} of the run's {energy['slices']} slices "
        f"priced; " + ("all billed requests paid" if not energy["failures"] else "FAILED"),
        *energy["failures"],
        *energy["notes"],
        f"grid totals: {energy['grid']}",
    ]
    return "\n".join(lines) + "\n"


def write_run_folder(result: RunResult, folder: Path) -> dict[str, Any]:
    """Write summary.json, events.csv, audit.txt and report.html; return the summary."""
    folder.mkdir(parents=True, exist_ok=True)
    summary = summarize(result)
    (folder / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    with open(folder / "events.csv", "w", newline="") as handle:
        names = [f.name for f in dataclasses.fields(result.events[0])] if result.events else []
        writer = csv.DictWriter(handle, fieldnames=names or ["real"])
        writer.writeheader()
        for event in result.events:
            writer.writerow(dataclasses.asdict(event))
    (folder / "audit.txt").write_text(result.audit_text + "\n" + _slices_text(summary))
    (folder / "report.html").write_text(_html(result, summary))
    return summary
