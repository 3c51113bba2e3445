"""One report comparing several runs (``run a.yaml b.yaml`` or a scenario's ``sweep:``):
``comparison.json`` (the key figures of each run and their difference to the first) and
``comparison.html`` (a table of the figures and differences, and the runs' charts overlaid).

It reads only the run folders' ``summary.json``, so it compares runs made at any time.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.io import to_html

__all__ = ["FIGURES", "compare", "write_comparison"]

# (figure, where it is in summary.json)
FIGURES: list[tuple[str, tuple[str, ...]]] = [
    ("orders planned", ("orders", "planned")),
    ("orders done", ("orders", "done")),
    ("orders failed", ("orders", "failed")),
    ("paid tokens", ("orders", "paid_tokens")),
    ("latency p50 (s)", ("orders", "latency_p50_s")),
    ("latency p99 (s)", ("orders", "latency_p99_s")),
    ("orders done per second", ("orders", "done_per_second")),
    ("milestones", ("devnet", "milestones")),
    ("peak memory total (MB)", ("memory", "peak_total_mb")),
    ("slices", ("energy", "slices")),
    ("slices settled", ("energy", "settled")),
    ("mean slice price", ("energy", "price_mean")),
    ("min slice price", ("energy", "price_min")),
    ("max slice price", ("energy", "price_max")),
    ("grid received", ("energy", "grid", "received")),
    ("grid cut", ("energy", "grid", "cut")),
    ("grid paid out", ("energy", "grid", "paidOut")),
    ("audit passed", ("audit", "passed")),
]


def _at(summary: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = summary
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _participants(summary: dict[str, Any]) -> dict[str, Any]:
    """Per energy party: kWh in the run, and what the grid paid each producer (its books
    are keyed by registration id, which differs between runs: the machine name does not)."""
    energy = summary.get("energy") or {}
    producers = energy.get("grid_producers") or {}
    figures: dict[str, Any] = {}
    for name, entry in (energy.get("participants") or {}).items():
        figures[f"{name} kWh"] = entry.get("total_kwh")
        if entry.get("kind") == "producer":
            paid = producers.get(entry.get("registration") or "", {}).get("paidOut")
            figures[f"{name} paid out by the grid"] = paid
        if entry.get("kind") == "battery":
            figures[f"{name} sold kWh"] = entry.get("sold_kwh")
    return figures


def compare(runs: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """The figures of each ``(label, summary)`` and their difference to the first run."""
    figures: dict[str, list[Any]] = {
        name: [_at(s, path) for _, s in runs] for name, path in FIGURES
    }
    extra = [_participants(s) for _, s in runs]
    for name in sorted({k for e in extra for k in e}):
        figures[name] = [e.get(name) for e in extra]
    differences: dict[str, list[Any]] = {}
    for name, values in figures.items():
        first = values[0]
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        differences[name] = (
            [round(v - first, 6) for v in values] if numeric else [None for _ in values]
        )
    return {
        "runs": [label for label, _ in runs],
        "scenarios": [s.get("scenario") for _, s in runs],
        "figures": figures,
        "differences": differences,
        "all_passed": all(bool(_at(s, ("audit", "passed"))) for _, s in runs),
    }


def _charts(runs: list[tuple[str, dict[str, Any]]]) -> list[go.Figure]:
    labels = [label for label, _ in runs]
    prices = go.Figure(
        layout={"title": "Slice prices (tokens per kWh)", "xaxis_title": "energy slice"}
    )
    for label, summary in runs:
        slices = (summary.get("energy") or {}).get("per_slice") or []
        prices.add_scatter(
            x=[s["index"] for s in slices], y=[s["price"] for s in slices], name=label
        )
    latency = go.Figure(layout={"title": "Order latency (real s)", "barmode": "group"})
    for key in ("latency_p50_s", "latency_p99_s"):
        latency.add_bar(x=labels, y=[_at(s, ("orders", key)) for _, s in runs], name=key)
    grid = go.Figure(layout={"title": "The grid's books (tokens)", "barmode": "group"})
    for key in ("received", "cut", "paidOut", "waiting", "credit"):
        grid.add_bar(x=labels, y=[_at(s, ("energy", "grid", key)) for _, s in runs], name=key)
    energy = go.Figure(layout={"title": "Energy per participant (kWh in the run)"})
    names = sorted(
        {n for _, s in runs for n in ((s.get("energy") or {}).get("participants") or {})}
    )
    for label, summary in runs:
        participants = (summary.get("energy") or {}).get("participants") or {}
        energy.add_bar(
            x=names, y=[(participants.get(n) or {}).get("total_kwh") for n in names], name=label
        )
    return [prices, latency, grid, energy]


def _table(result: dict[str, Any]) -> str:
    head = "".join(f"<th>{html.escape(str(r))}</th>" for r in result["runs"])
    rows = [f"<tr><th>figure</th>{head}</tr>"]
    for name, values in result["figures"].items():
        cells = []
        for value, difference in zip(values, result["differences"][name], strict=True):
            text = html.escape(str(value))
            if difference:
                text += f" <small>({difference:+g})</small>"
            cells.append(f"<td>{text}</td>")
        rows.append(f"<tr><td>{html.escape(name)}</td>{''.join(cells)}</tr>")
    return "<table>" + "".join(rows) + "</table>"


def write_comparison(folders: list[Path], out: Path) -> dict[str, Any]:
    """Compare the run folders (each with its summary.json) into ``out``."""
    runs = [(folder.name, json.loads((folder / "summary.json").read_text())) for folder in folders]
    result = compare(runs)
    out.mkdir(parents=True, exist_ok=True)
    (out / "comparison.json").write_text(json.dumps(result, indent=2) + "\n")
    passed = result["all_passed"]
    colour = "#1a7f37" if passed else "#c62828"
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>comparison</title>",
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 12px}</style>",
        "</head><body>",
        f"<h1 style='color:{colour}'>Comparison of {len(runs)} runs: "
        + ("every audit passed" if passed else "AN AUDIT FAILED")
        + "</h1>",
        "<p>Differences in brackets are to the first run.</p>",
        _table(result),
    ]
    for index, figure in enumerate(_charts(runs)):
        parts.append(to_html(figure, full_html=False, include_plotlyjs=index == 0))
    parts.append("</body></html>")
    (out / "comparison.html").write_text("\n".join(parts))
    return result
