"""Run a fleet: ``python -m services.fleet --kind robot --count 100 --port 4000``.

Options (docs/fleet.md): --kind robot|wind|solar, --count N, --port P, --host H,
--config FILE (YAML or JSON), --data-dir DIR, --public-url URL. Environment: FLEET_SEED
(required; each machine's seed derives from it), LOG_LEVEL, and every variable of the
single machine as the default for all (IOTA_NODE_URL, IOTA_ZMQ_URL, MACHINE_TOKEN, ...).
A bad option, variable or config file exits 2 naming it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from services.fleet.env import KINDS, FleetEnv
from shared.logs import configure_logging
from shared.settings import SettingsError, load_settings

__all__ = ["main", "parse_args"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m services.fleet",
        description="Host many machines of one kind in one process, each under /m/<name>/.",
    )
    parser.add_argument("--kind", choices=KINDS, help="robot, wind or solar")
    parser.add_argument("--count", type=int, help="how many machines (1..10000)")
    parser.add_argument("--port", type=int, default=4000, help="HTTP + Socket.IO port")
    parser.add_argument("--host", default="0.0.0.0", help="interface to listen on")
    parser.add_argument("--config", type=Path, help="YAML/JSON file (docs/fleet.md)")
    parser.add_argument(
        "--data-dir", type=Path, default=Path("data/fleet"), help="one folder per machine"
    )
    parser.add_argument(
        "--public-url",
        help="how peers reach this fleet (default http://127.0.0.1:PORT); "
        "a machine's URL is <public-url>/m/<name>",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        env = load_settings(FleetEnv)
    except SettingsError:
        sys.exit(2)
    configure_logging(env.log_level, "fleet")
    # Imported once logging is set up (the machines' modules log at import, too).
    from services.fleet.app import Fleet
    from services.fleet.config import FleetConfigError, load_file, plan_fleet
    from shared.machine.app import MAX_BODY_BYTES
    from shared.web import serve

    try:
        file = load_file(args.config) if args.config else None
        kind = args.kind or (file.kind if file else None)
        count = args.count or (file.count if file else None)
        if kind is None or count is None:
            raise FleetConfigError("--kind and --count are needed (or kind/count in --config)")
        if not 1 <= count <= 10_000:
            raise FleetConfigError("--count: must be 1..10000")
        plan = plan_fleet(
            kind=kind,
            count=count,
            fleet_seed=env.fleet_seed,
            data_dir=args.data_dir.resolve(),
            port=args.port,
            base_url=args.public_url or f"http://127.0.0.1:{args.port}",
            file=file,
        )
    except (FleetConfigError, SettingsError) as error:
        print(f"fleet: {error}", file=sys.stderr)
        sys.exit(2)
    serve(
        Fleet(plan),
        host=args.host,
        port=args.port,
        ws="websockets-sansio",
        ws_max_size=MAX_BODY_BYTES,
    )


if __name__ == "__main__":
    main()
