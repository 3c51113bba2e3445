"""The energy market's part of the report: slice prices, energy per participant and slice,
the batteries, the grid's books, and the audit's 'every slice settled'."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from services.scenario.energy import EnergyFigures
from services.scenario.plan import Plan

__all__ = ["energy_charts", "energy_summary"]


def energy_summary(figures: EnergyFigures, plan: Plan) -> dict[str, Any]:
    """summary.json's ``energy``: every slice of the run (index counted from the energy
    clock's start) with its price, and each party's kWh in it, from the services' APIs."""
    run = figures.run_slices()
    slices = []
    for start in run:
        row = figures.prices.get(start, {})
        slices.append(
            {
                "index": figures.index(start),
                # the simulated hour of day the slice starts at (the energy clock's)
                "hour": round(
                    (plan.start_hour + figures.index(start) * plan.slice_seconds / 3600) % 24, 4
                ),
                "startTime": start,
                "price": row.get("price"),
                "method": row.get("method"),
                "output_kwh": row.get("output"),
                "usage_kwh": row.get("usage"),
                "missingQuotes": row.get("missingQuotes", []),
            }
        )
    participants: dict[str, Any] = {}
    for machine in plan.machines:
        if machine.kind not in ("producer", "consumer", "battery"):
            continue
        kwh = figures.kwh.get(machine.name, {})
        entry: dict[str, Any] = {
            "kind": machine.kind,
            "registration": figures.registration.get(machine.name),
            # producers: output; households and batteries: what they bought (usage)
            "kwh": {str(figures.index(s)): kwh[s] for s in run if s in kwh},
            "total_kwh": round(sum(kwh.get(s, 0.0) for s in run), 6),
        }
        if machine.kind == "consumer":
            entry["planned_kwh"] = {
                str(figures.index(s)): plan.energy(machine.name, figures.index(s)) for s in run
            }
        if machine.kind == "producer":
            # what its sources make in each slice by the plan (their outputs, summed)
            sources = [m.name for m in plan.machines if m.producer == machine.name]
            entry["sources"] = sources
            entry["planned_kwh"] = {
                str(figures.index(s)): round(
                    sum(plan.energy(source, figures.index(s)) for source in sources), 6
                )
                for s in run
            }
        if machine.kind == "battery":
            sold = figures.sold.get(machine.name, {})
            entry["bought_kwh"] = entry["total_kwh"]
            entry["sold_kwh"] = round(sum(sold.get(s, 0.0) for s in run), 6)
            entry["sold"] = {str(figures.index(s)): sold[s] for s in run if s in sold}
            entry["state"] = figures.batteries.get(machine.name)
        participants[machine.name] = entry
    prices = [s["price"] for s in slices if s["price"] is not None]
    return {
        "slice_seconds": plan.slice_seconds,
        "slice_real_ms": figures.slice_ms,
        "epoch_ms": figures.epoch_ms,
        "slices": len(run),
        "settled": sum(1 for s in run if s in figures.prices),
        "price_mean": round(sum(prices) / len(prices), 6) if prices else None,
        "price_min": min(prices) if prices else None,
        "price_max": max(prices) if prices else None,
        "per_slice": slices,
        "participants": participants,
        "grid": figures.grid.get("totals"),
        "grid_consumers": figures.grid.get("consumers"),
        "grid_producers": figures.grid.get("producers"),
        "failures": list(figures.failures),
        "notes": list(figures.notes),
    }


def energy_charts(energy: dict[str, Any], samples: list[dict[str, Any]]) -> list[go.Figure]:
    slices = energy["per_slice"]
    x = [s["index"] for s in slices]
    prices = go.Figure(
        layout={"title": "Slice prices (tokens per kWh)", "xaxis_title": "energy slice"}
    )
    prices.add_scatter(
        x=x, y=[s["price"] for s in slices], name="clearing price", mode="lines+markers"
    )
    kwh = go.Figure(
        layout={"title": "Energy per participant (kWh per slice)", "xaxis_title": "energy slice"}
    )
    for name, entry in energy["participants"].items():
        kwh.add_scatter(x=[int(k) for k in entry["kwh"]], y=list(entry["kwh"].values()), name=name)
        if entry["kind"] == "battery":
            kwh.add_scatter(
                x=[int(k) for k in entry["sold"]],
                y=list(entry["sold"].values()),
                name=f"{name} sold",
            )
    figures = [prices, kwh]
    charges = sorted({k for s in samples for k in s if k.startswith("charge:")})
    if charges:
        charge = go.Figure(
            layout={"title": "Battery state of charge (kWh)", "xaxis_title": "hours"}
        )
        hours = [s["simulated"] / 3600 for s in samples]
        for key in charges:
            charge.add_scatter(x=hours, y=[s.get(key) for s in samples], name=key.split(":", 1)[1])
        figures.append(charge)
    return figures
