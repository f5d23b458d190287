"""Run `python -m tests.faketg` in a child process (benchmarks: the server then gets a core of its own)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def spawn(*options: str) -> tuple[subprocess.Popen[str], str]:
    """Start the fake Bot API with the command-line OPTIONS; returns the process and its base URL."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "tests.faketg", *options]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    for line in process.stdout:
        if match := re.search(r"listening on (\S+)", line):
            return process, match.group(1)
    process.wait()
    raise RuntimeError(f"the fake Bot API exited with {process.returncode} before listening")
