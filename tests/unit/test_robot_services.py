"""Each machine service refuses a bad environment at start, naming the variable, never the seed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET_LOOKING = "QWERTYUIOPASDFGHJKLZXCVBNM9QWERTYUIOPASDFGHJKLZXCVBNM9QWERTYUIOPASDFGHJKLZXCVBNM"


@pytest.mark.parametrize(
    ("module", "env", "variable"),
    [
        ("robot", {"SEED": SECRET_LOOKING + "!"}, "SEED"),
        ("robot", {"SEED": SECRET_LOOKING + "9", "PROVIDER_URL": "wind:3001"}, "PROVIDER_URL"),
        ("wind", {"SEED": SECRET_LOOKING + "9", "WORK_SECONDS": "soon"}, "WORK_SECONDS"),
        ("solar", {}, "SEED"),
        ("dashboard", {"PAY_LIMIT": "-5"}, "PAY_LIMIT"),
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
        timeout=60,
    )
    assert result.returncode == 2
    assert f"{variable}:" in result.stderr
    assert SECRET_LOOKING not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
