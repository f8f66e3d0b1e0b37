"""``kill_strays``: a node process that lost its handle (a Ctrl-C inside ``Popen``) is found by
its command line and killed; nothing outside the devnet's root is touched."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from node.harness.process import kill_strays

SLEEPER = "import time; time.sleep(120)"


def _lookalike(home: Path) -> subprocess.Popen[bytes]:
    """A process whose command line reads like ``kiez node run --home HOME``."""
    return subprocess.Popen([sys.executable, "-c", SLEEPER, "node.cli", "node", "run", "--home", str(home)])


def test_only_the_nodes_under_the_root_are_killed(tmp_path: Path) -> None:
    ours, theirs = _lookalike(tmp_path / "devnet" / "bob"), _lookalike(tmp_path / "elsewhere" / "bob")
    try:
        assert kill_strays(tmp_path / "devnet") == [ours.pid]
        assert ours.wait(timeout=10) == -9
        assert theirs.poll() is None
        assert kill_strays(tmp_path / "devnet") == []
    finally:
        for process in (ours, theirs):
            process.kill()
            process.wait()
