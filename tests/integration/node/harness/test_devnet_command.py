"""The README's main job: `kiez devnet` runs its whole scenario: a chain, node processes, votes;
and Ctrl-C stops every process it started, also when it runs as a shell's background job, which
starts with SIGINT ignored (``kiez devnet &`` in a script, or a non-interactive shell)."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
#: What a non-interactive shell does to a background job: SIGINT ignored, inherited by exec.
AS_BACKGROUND_JOB = ("sh", "-c", 'trap "" INT && exec "$@"', "sh")
WAIT = 120.0
STOP = 60.0  # for the devnet to stop every process after Ctrl-C


@dataclass
class Devnet:
    """A `kiez devnet` process whose output lines a thread collects, so every wait is bounded."""

    process: subprocess.Popen[str]
    lines: queue.Queue[str | None] = field(default_factory=queue.Queue)
    output: list[str] = field(default_factory=list)

    def wait_for(self, text: str) -> None:
        while True:
            line = self.lines.get(timeout=WAIT)
            assert line is not None, "the devnet ended before printing " + repr(text) + ":\n" + "".join(self.output)
            self.output.append(line)
            if text in line:
                return

    def children(self) -> set[tuple[int, str]]:
        """The devnet's child processes, each as (pid, start time): a pid alone may be reused
        by an unrelated process once the system's pids wrap around."""
        found = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True, check=False)
        return {(int(pid), _started(int(pid))) for pid in found.stdout.split()}

    def interrupted(self) -> tuple[int, str]:
        """Ctrl-C, then its exit code and the rest of its output."""
        self.process.send_signal(signal.SIGINT)
        try:
            code = self.process.wait(timeout=STOP)
        except subprocess.TimeoutExpired:  # it ignored Ctrl-C
            self.process.terminate()
            self.process.wait(timeout=WAIT)
            code = -1
        while (line := self.lines.get(timeout=WAIT)) is not None:
            self.output.append(line)
        return code, "".join(self.output)


@contextmanager
def devnet(where: Path, *options: str) -> Iterator[Devnet]:
    command = [sys.executable, "-m", "node.cli", "devnet", "--port", "0", "--dir", str(where), *options]
    process = subprocess.Popen(
        [*AS_BACKGROUND_JOB, *command],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    running = Devnet(process)
    assert process.stdout is not None
    stdout = process.stdout

    def read() -> None:
        for line in stdout:
            running.lines.put(line)
        running.lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    try:
        yield running
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=WAIT)


def _started(pid: int) -> str:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat), or ""."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]


def alive(processes: set[tuple[int, str]]) -> set[int]:
    """Those of ``processes`` still running: the same pid with the same start time (a process
    that stopped was reaped by the devnet; its pid may since belong to another one)."""
    return {pid for pid, started in processes if started and _started(pid) == started}


def leftover_nodes(where: Path) -> str:
    found = subprocess.run(["pgrep", "-f", str(where)], capture_output=True, text=True, check=False)
    return found.stdout.strip()


def test_devnet_runs_the_whole_scenario_and_ctrl_c_stops_it(tmp_path: Path) -> None:
    where = tmp_path / "devnet"
    with devnet(where, "--keep") as running:
        running.wait_for("Press Ctrl-C to stop everything.")
        started = running.children()
        assert len(started) == 5  # the chain, the three founders' nodes and the newcomer's
        code, out = running.interrupted()
    assert code == 0, out
    assert "The scenario ran to the end." in out
    assert re.search(r"alice\s+posted \w+…\s+on all 3 feeds", out)
    assert re.search(r"kiez open --home \S+alice\s+# alice", out)  # each member's web app
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
    # the bridging feed: the same on every node; the post both sides like comes first, says why
    ranked = out.split("bridging feed, the same on all 4 nodes")[1].split("opinion map")[0]
    assert re.search(r"1\. Alice: “Repair café on Thursday[^\n]*appreciated by members who usually disagree", ranked)
    assert re.search(r"2\. Alice: “More parking spaces by the market, please\.”[^\n]*mostly by one group", ranked)
    assert "Close the canal street" not in ranked  # one supporter: not ranked
    mapped = out.split("opinion map of bob's poll")[1].split("The community removes")[0]
    assert re.search(r"no groups of opinion to show \(\d members with enough answers and reactions; a map", mapped)
    # names instead of addresses, and a charter every node checks against the chain's hash
    assert "alice  set a profile" in out
    assert "dana   set a profile" in out
    assert "all 3 nodes show the charter with ✓ (its keccak-256 is the chain's)" in out
    # the summary: every node's name, feed, hidden count and peers
    rows = {
        line.split()[0]: line.split()
        for line in out.splitlines()
        if re.match(r"^(alice|bob|carol|dana)\s+\S+\s+\d", line)
    }
    assert set(rows) == {"alice", "bob", "carol", "dana"}
    assert (rows["alice"][1], rows["dana"][1]) == ("Alice", "Dana")
    assert rows["carol"][1].startswith("0x")  # removed: her name is no longer shown
    # alice, carol and dana's posts, the charter, and the two on the street; bob's first is hidden
    assert rows["alice"][2] == "6"
    assert rows["alice"][3] == "1"
    assert rows["carol"][-1] == "no"
    assert rows["alice"][-1] == "yes"
    # Ctrl-C reached it although it ran as a background job, and it stopped every process
    assert re.search(r"bob\s+replied \w+… to alice's post, mentioning Carol", out)
    told = out.split("Alice's notifications")[1].split("Alice's digest")[0]
    assert "Bob replied to you: “I'll bring my toaster. @Carol, your radio too?”" in told
    assert "reacted 👍 to your post" in told  # by carol, since removed: shown by address
    assert "mentioned you" not in told  # the mention was carol's to be told of
    digest = out.split("Alice's digest")[1]
    assert "Alice: “Repair café on Thursday" in digest.split("most discussed")[1].split("reached the most")[0]
    assert "Dana" in digest.split("joined")[1]
    assert "stopping the nodes and the chain" in out
    assert alive(started) == set()
    assert leftover_nodes(where) == ""


def test_ctrl_c_during_the_scenario_leaves_no_process_behind(tmp_path: Path) -> None:
    where = tmp_path / "devnet"
    with devnet(where) as running:
        running.wait_for("bob    authorised app key")  # alice's node runs; bob's starts next
        started = running.children()
        code, output = running.interrupted()
    assert code == 130, output
    assert "interrupted; the nodes and the chain are stopped" in output
    assert "The scenario ran to the end." not in output
    assert alive(started) == set()
    assert leftover_nodes(where) == ""


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
