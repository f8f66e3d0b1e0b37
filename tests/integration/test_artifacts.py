"""The committed ABI/bytecode must be exactly what the pinned solc makes of the sources."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_committed_artifacts_match_the_sources() -> None:
    node = shutil.which("node")
    assert node is not None, "node is needed to run the pinned solc (scripts/bootstrap.sh installs it)"
    result = subprocess.run(
        [node, "scripts/compile_contracts.mjs", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, (
        "contract artifacts are stale; run: node scripts/compile_contracts.mjs\n" + result.stderr
    )
    assert "ok: governance/artifacts/Community.json" in result.stdout
