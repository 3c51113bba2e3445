"""The devnet refuses bad settings at start, naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]


def run_with(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("DEVNET_")}
    full.update({"DEVNET_DATA_DIR": str(tmp_path), **env})
    return subprocess.run(
        [sys.executable, "-m", "services.devnet"],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DEVNET_MWM": "nine"}, "DEVNET_MWM"),
        ({"DEVNET_PORT": "70000"}, "DEVNET_PORT"),
        ({"DEVNET_FAUCET_SEED": "NOT-A-SEED"}, "DEVNET_FAUCET_SEED"),
        ({"DEVNET_MILESTONE_INTERVAL": "0"}, "DEVNET_MILESTONE_INTERVAL"),
    ],
)
def test_bad_setting_stops_the_devnet(env: dict[str, str], variable: str, tmp_path: Path) -> None:
    result = run_with(env, tmp_path)
    assert result.returncode == 2
    assert f"{variable}:" in result.stderr
    assert "NOT-A-SEED" not in result.stderr  # secrets are never echoed


def test_snapshot_must_add_up_to_the_supply(tmp_path: Path) -> None:
    snapshot = tmp_path / "snapshot.txt"
    snapshot.write_text("A" * 81 + ";1000\n")
    result = run_with({"DEVNET_SNAPSHOT": str(snapshot)}, tmp_path)
    assert result.returncode == 2
    assert "DEVNET_SNAPSHOT:" in result.stderr
    assert "total supply" in result.stderr
