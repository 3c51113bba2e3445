"""``python -m services.scenario validate|plan|run FILE``.

Exit status: 0 the run finished and its audit passed; 1 the audit failed (the report says
so first, in red); 2 the scenario file is wrong (every bad field named) or the run could
not start; 130 interrupted twice (stopped without a report). Several files, or a scenario
with a ``sweep:``, run one after the other and end with a comparison report; the status is
the worst of the runs'.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from services.scenario.plan import make_plan
from services.scenario.schema import (
    Scenario,
    ScenarioError,
    load_scenario,
    parse_duration,
    variants,
)

__all__ = ["main", "parser"]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m services.scenario",
        description="Describe an economy in a YAML file, run it headless on the real "
        "services at accelerated time, and read its report and audit.",
    )
    commands = p.add_subparsers(dest="command", required=True)
    validate = commands.add_parser("validate", help="check a scenario file and say what is wrong")
    validate.add_argument("file", type=Path)
    plan = commands.add_parser("plan", help="the machines and order arrivals a run would have")
    plan.add_argument("file", type=Path)
    run = commands.add_parser(
        "run", help="run scenarios (several files or a sweep: and a comparison report)"
    )
    run.add_argument("files", type=Path, nargs="+")
    run.add_argument("--duration", help="override the simulated duration (e.g. 30m, 2h)")
    run.add_argument("--time-scale", type=float, help="override clock.time_scale")
    run.add_argument("--seed", type=int, help="override the random seed")
    run.add_argument(
        "--out",
        type=Path,
        help="the run folder (default: runs/<scenario>-<date-time>); with several runs the "
        "folder holding one folder per run and the comparison",
    )
    run.add_argument(
        "--drain",
        type=float,
        default=120.0,
        help="seconds the audit may wait for money in flight after the duration (120)",
    )
    run.add_argument(
        "--start-timeout",
        type=float,
        default=300.0,
        help="seconds each process may take to become ready (300)",
    )
    return p


def _overridden(scenario: Scenario, args: argparse.Namespace) -> Scenario:
    data = scenario.model_dump()
    if args.duration is not None:
        data["duration"] = parse_duration(args.duration)
    if args.time_scale is not None:
        data["clock"]["time_scale"] = args.time_scale
    if args.seed is not None:
        data["seed"] = args.seed
    return Scenario.model_validate(data)


def _run_all(scenarios: list[Scenario], args: argparse.Namespace, console: Console) -> int:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    if len(scenarios) == 1:
        return _run(
            scenarios[0], args, console, args.out or Path("runs") / f"{scenarios[0].name}-{stamp}"
        )
    from services.scenario.compare import write_comparison

    out = args.out or Path("runs") / f"compare-{stamp}"
    folders: list[Path] = []
    codes: list[int] = []
    used: set[str] = set()
    for index, scenario in enumerate(scenarios, 1):
        # two files may name their scenarios alike: each run gets a folder of its own
        name = scenario.name if scenario.name not in used else f"{scenario.name}-{index}"
        used.add(name)
        folder = out / name
        console.rule(f"run {index} of {len(scenarios)}: {scenario.name}")
        codes.append(_run(scenario, args, console, folder))
        if codes[-1] == 130:
            return 130
        summary = folder / "summary.json"
        if summary.exists():
            folders.append(folder)
            if json.loads(summary.read_text()).get("interrupted"):
                console.print("[yellow]interrupted: the remaining runs are not started")
                break
    if len(folders) > 1:
        result = write_comparison(folders, out)
        for name, values in result["figures"].items():
            console.print(f"{name:<40} " + "  ".join(str(v) for v in values), highlight=False)
        console.print(f"comparison: {out / 'comparison.html'}")
    return max(codes)


def _run(scenario: Scenario, args: argparse.Namespace, console: Console, folder: Path) -> int:
    # the runner pulls in the HTTP and Socket.IO clients: only a run needs them
    from services.scenario.report import write_run_folder
    from services.scenario.runner import ScenarioRun

    plan = make_plan(scenario)
    console.print(
        f"[bold]{scenario.name}[/]: {len(plan.machines)} machines, "
        f"{len(plan.arrivals)} orders planned over {scenario.duration / 3600:.2f} simulated "
        f"hours ({scenario.real_duration:.0f} s real); run folder {folder}"
    )
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task("starting", total=scenario.duration, status="")
        last = [time.monotonic(), 0]
        printed = [0.0]

        def report(simulated: float, counts: dict[str, int]) -> None:
            now = time.monotonic()
            done = counts["done"] + counts["failed"]
            rate = (done - last[1]) / max(1e-6, now - last[0])
            if now - last[0] >= 1.0:
                last[0], last[1] = now, done
            status = (
                f"placed {counts['placed']} done {counts['done']} failed "
                f"{counts['failed']} errors {counts['errors']} ({rate:.1f}/s)"
            )
            if "slices" in counts:
                status += f" slices settled {counts['slices']}"
            description = f"simulated {simulated / 3600:5.2f} h"
            progress.update(task, completed=simulated, description=description, status=status)
            if not console.is_terminal and now - printed[0] >= 5.0:
                # a log file or CI: a plain line every 5 s instead of a redrawn bar
                printed[0] = now
                console.print(f"{description}: {status}", highlight=False)

        run = ScenarioRun(
            scenario, folder, drain=args.drain, start_timeout=args.start_timeout, progress=report
        )
        interrupts = [0]

        def on_interrupt(signum: int, frame: FrameType | None) -> None:
            interrupts[0] += 1
            if interrupts[0] > 1:
                raise KeyboardInterrupt
            console.print("[yellow]interrupted: finishing open orders, then audit and report")
            run.interrupt()

        previous = signal.signal(signal.SIGINT, on_interrupt)
        try:
            progress.update(task, description="starting the devnet and machines")
            result = run.run()
        except KeyboardInterrupt:
            console.print("[red]stopped without a report")
            return 130
        except RuntimeError as error:
            console.print(f"[red]the run could not start: {error}")
            return 2
        finally:
            signal.signal(signal.SIGINT, previous)
    summary = write_run_folder(result, folder)
    passed = summary["audit"]["passed"]
    headline = "[green]audit passed" if passed else "[bold red]AUDIT FAILED"
    console.print(headline)
    for failure in summary["audit"]["failures"]:
        console.print(f"[red]{failure}", highlight=False)
    console.print(result.audit_text, markup=False, highlight=False)
    orders = summary["orders"]
    console.print(
        f"orders planned {orders['planned']} placed {orders['placed']} done {orders['done']} "
        f"failed {orders['failed']}; latency p50 {orders['latency_p50_s']} s p99 "
        f"{orders['latency_p99_s']} s; report {folder / 'report.html'}"
    )
    return 0 if passed else 1


def _print_plan(scenario: Scenario, console: Console) -> None:
    plan = make_plan(scenario)
    profiles = plan.energy_profiles()
    for machine in plan.machines:
        extra = f" pays {machine.provider} by {machine.payment}" if machine.provider else ""
        if machine.producer:
            extra += f", feeds {machine.producer}"
        settings = " ".join(f"{k}={v}" for k, v in machine.settings.items())
        line = f"{machine.name:<20} {machine.kind:<8}"
        if machine.kind in ("robot", "wind", "solar", "producer"):
            line += f" price {machine.price}"
        line += extra + (f" {settings}" if settings else "")
        if machine.kind == "robot":
            line += f", {sum(1 for a in plan.arrivals if a.robot == machine.name)} orders"
        if machine.name in profiles:
            line += f", {sum(profiles[machine.name]):.3f} kWh over {plan.slices} slices"
        console.print(line, highlight=False, soft_wrap=True)
    console.print(f"{len(plan.arrivals)} orders over {scenario.duration:.0f} simulated s")


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    console = Console(stderr=False)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    files = args.files if args.command == "run" else [args.file]
    scenarios: list[Scenario] = []
    for file in files:
        try:
            scenario = load_scenario(file)
            if args.command == "run":
                scenario = _overridden(scenario, args)
            scenarios += variants(scenario, str(file))
        except ScenarioError as error:
            Console(stderr=True).print(f"[bold red]{error}", markup=True, highlight=False)
            return 2
        except ValueError as error:
            print(f"{file}: {error}", file=sys.stderr)
            return 2
    if args.command == "validate":
        runs = f", a sweep of {len(scenarios)} runs" if len(scenarios) > 1 else ""
        machines = scenarios[0].machine_count()
        console.print(f"{args.file}: a valid scenario ({machines} machines{runs})", soft_wrap=True)
        return 0
    if args.command == "plan":
        for scenario in scenarios:
            if len(scenarios) > 1:
                console.rule(scenario.name)
            _print_plan(scenario, console)
        return 0
    return _run_all(scenarios, args, console)
