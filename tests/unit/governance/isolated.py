"""Running a piece of Python in a fresh interpreter, for tests of input that would kill the test
process itself if the code under test fails (a C stack overflow is SIGSEGV, not an exception)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def run_isolated(script: str) -> list[str]:
    """The lines ``script`` printed; fails the test if the interpreter did not exit cleanly."""
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-2000:]}"
    return done.stdout.splitlines()
