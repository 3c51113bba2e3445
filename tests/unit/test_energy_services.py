"""The producer and consumer refuse a bad environment at start, naming the variable,
never the seed (and a source setting on wind/solar too)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET_LOOKING = "QWERTYUIOPASDFGHJKLZXCVBNM9QWERTYUIOPASDFGHJKLZXCVBNM9QWERTYUIOPASDFGHJKLZXCVBNM"
GOOD = SECRET_LOOKING + "9"


@pytest.mark.parametrize(
    ("module", "env", "variable"),
    [
        ("producer", {}, "SEED"),
        ("producer", {"SEED": SECRET_LOOKING + "!"}, "SEED"),
        ("producer", {"SEED": GOOD, "PRODUCER_PRICE": "-1"}, "PRODUCER_PRICE"),
        (
            "producer",
            {"SEED": GOOD, "PRODUCER_PRICE_SCHEDULE": "6:10,25:5"},
            "PRODUCER_PRICE_SCHEDULE",
        ),
        ("producer", {"SEED": GOOD, "FAULT_PAUSE": "producer.nowhere:1"}, "FAULT_PAUSE"),
        ("producer", {"SEED": GOOD, "GRID_URL": "grid:4000"}, "GRID_URL"),
        ("consumer", {"SEED": GOOD, "PROFILE": "factory"}, "PROFILE"),
        ("consumer", {"SEED": GOOD, "SLICE_SECONDS": "0"}, "SLICE_SECONDS"),
        ("consumer", {"SEED": GOOD, "FAUCET_AMOUNT": "lots"}, "FAUCET_AMOUNT"),
        ("wind", {"SEED": GOOD, "PRODUCER_URL": "producer"}, "PRODUCER_URL"),
        ("solar", {"SEED": GOOD, "TIME_SCALE": "0"}, "TIME_SCALE"),
    ],
)
def test_bad_environment_stops_the_service(
    module: str, env: dict[str, str], variable: str, tmp_path: Path
) -> None:
    clean = {k: v for k, v in os.environ.items() if k not in ("SEED", "PORT", "NAME")}
    result = subprocess.run(
        [sys.executable, "-m", f"services.{module}"],
        cwd=ROOT,
        env={**clean, "DATA_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2, result.stderr[-500:]
    assert f"{variable}:" in result.stderr
    assert SECRET_LOOKING not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
