"""The README's main job: `kiez devnet` runs its whole scenario: a chain, node processes, votes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]


def test_devnet_runs_the_whole_scenario(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "node.cli", "devnet", "--port", "0", "--dir", str(tmp_path / "devnet")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "The scenario ran to the end." in out
    assert re.search(r"alice\s+posted \w+…\s+on all 3 feeds", out)
    assert "the post is gone from all 3 feeds" in out
    assert "dana   posted" in out
    assert "all 4 nodes accepted it" in out
    assert "carol  tried to post → refused: refused (not_a_member)" in out
    # the private room: the newcomer's node relays it unread; carol is locked out after her removal
    assert "alice and carol opened and read it" in out
    assert "dana   holds and relays the sealed post; can read the room: False; posts shown: 0" in out
    assert "the organisers' room got a fresh key sealed to alice and bob only, not to carol" in out
    assert re.search(r"carol  holds alice's new sealed post \w+… but cannot open it", out)
    # the poll: carol's second answer replaced her first, and every node counts the same
    assert "alice [3, 0], bob [3, 0], carol [3, 0], dana [3, 0]" in out
    # the summary: every node's feed, hidden count and peers
    rows = {
        line.split()[0]: line.split() for line in out.splitlines() if re.match(r"^(alice|bob|carol|dana)\s+\d", line)
    }
    assert set(rows) == {"alice", "bob", "carol", "dana"}
    assert rows["alice"][1] == "3"  # alice, carol and dana's posts; bob's is hidden
    assert rows["alice"][2] == "1"
    assert rows["carol"][-1] == "no"
    assert rows["alice"][-1] == "yes"
    # every node process is gone
    leftover = subprocess.run(["pgrep", "-f", str(tmp_path / "devnet")], capture_output=True, text=True, check=False)
    assert leftover.stdout.strip() == ""


def test_devchain_script_prints_a_usable_community() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/devchain.py", "--no-wait", "--founders", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "export KIEZ_RPC=http://127.0.0.1:" in result.stdout
    assert result.stdout.count("founder ") == 2
