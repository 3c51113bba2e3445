"""Run ``python -m services.scenario`` as a user does, in its own process group, so that a
run that overstays is stopped together with every service it started (the runner's
children would otherwise outlive the test and load the machine for the next ones)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def run_scenario(*arguments: str, timeout: float) -> tuple[int, str]:
    """(exit status, stdout and stderr) of ``python -m services.scenario <arguments>``."""
    runner = subprocess.Popen(
        [sys.executable, "-m", "services.scenario", *arguments],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = runner.communicate(timeout=timeout)
    finally:
        if runner.poll() is None:
            os.killpg(runner.pid, signal.SIGKILL)
            runner.wait()
    return runner.returncode, output
