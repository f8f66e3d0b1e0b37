"""`kiez devnet --netns`: the whole devnet scenario with alice's node on a public address and
every other member's node behind a NAT of its own, and nothing of the lab left afterwards."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.integration.node.harness.test_devnet_command import devnet


def _namespaces_of(pid: int) -> set[str]:
    """The NAT lab namespaces process ``pid`` created (their names start ``kn<pid>x``)."""
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False).stdout
    return {line.split()[0] for line in listed.splitlines() if line.startswith(f"kn{pid}x")}


def test_devnet_runs_its_scenario_with_the_nodes_behind_nats(tmp_path: Path) -> None:
    with devnet(tmp_path / "devnet", "--netns") as running:
        running.wait_for("connected peers:")  # the founders' nodes run in the lab
        assert len(_namespaces_of(running.process.pid)) == 1 + 1 + 1 + 2 * 3  # inet, pub, chain, 3 homes
        running.wait_for("The scenario ran to the end.")
        assert running.process.wait(timeout=60) == 0
        out = "".join(running.output)
    assert re.search(r"alice\s+node up in namespace kn\w+-pub0 \(198\.18\.1\.2\)", out), out
    for name, home in (("bob", 0), ("carol", 1), ("dana", 2)):
        assert re.search(rf"{name}\s+node up in namespace kn\w+-h{home} \(192\.168\.{home + 1}\.2\)", out), out
    assert "all 4 nodes accepted it" in out  # the newcomer's post, from behind a NAT
    assert "carol  tried to post → refused: refused (not_a_member)" in out
    assert "alice [3, 0], bob [3, 0], carol [3, 0], dana [3, 0]" in out
    assert _namespaces_of(running.process.pid) == set()  # the lab is gone
