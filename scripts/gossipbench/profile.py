"""Where a kiez node's CPU goes: py-spy on every node process, its samples sorted into the layers
of py-libp2p, kiez's validation and storage, and trio's scheduler."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from pathlib import Path

from node.errors import NodeError

# Where a kiez node's CPU goes, by the first matching frame of a py-spy stack (in this order).
PROFILE_CATEGORIES: list[tuple[str, tuple[str, ...]]] = [
    ("kiez validation + SQLite store", ("NodeService.ingest", "node/store/", "node/core/")),
    ("kiez local API (HTTP, publish)", ("node/api/",)),
    # Not "governance/": the CLI's entry point (governance/cli/terminal.py) is on every stack.
    ("chain watcher (web3 polling)", ("node/chain/", "web3/")),
    ("py-libp2p: signed peer record checked on every RPC", ("maybe_consume_signed_record",)),
    ("py-libp2p: signed peer record built for every message", ("env_to_send_in_RPC",)),
    ("py-libp2p: yamux window update after every read", ("_auto_tune_and_send_window_update", "send_window_update")),
    ("py-libp2p: message signature check (StrictSign)", ("signature_validator", "Pubsub.validate_msg")),
    (
        "gossipsub heartbeat and control",
        ("GossipSub.heartbeat", "emit_control_message", "handle_ihave", "handle_iwant"),
    ),
    ("py-libp2p outbound: queue, protobuf, yamux, noise, send", ("handle_sending_messages", "Pubsub.write_msg")),
    ("py-libp2p inbound: recv, noise, yamux, protobuf, pubsub", ("continuously_read_stream", "Yamux.handle_incoming")),
]


def start_profilers(pids: list[int], out: Path, seconds: float) -> list[subprocess.Popen[bytes]]:
    """py-spy on every process (50 Hz, samples holding the GIL, raw collapsed stacks)."""
    beside = Path(sys.executable).parent / "py-spy"
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if found is None:
        raise NodeError(f"py-spy is neither at {beside} nor on PATH: pip install py-spy into the venv")
    spy = Path(found)
    out.mkdir(parents=True, exist_ok=True)
    command = [str(spy), "record", "--gil", "--nonblocking", "-r", "50", "-f", "raw", "-d", str(math.ceil(seconds))]
    return [
        subprocess.Popen(
            [*command, "-o", str(out / f"node{i}.txt"), "-p", str(pid)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i, pid in enumerate(pids)
    ]


def profile_summary(out: Path) -> dict[str, float]:
    """Share of samples per PROFILE_CATEGORIES entry (the rest: trio's scheduler and the like)."""
    counts: dict[str, int] = {}
    total = 0
    for path in sorted(out.glob("node*.txt")):
        for line in path.read_text().splitlines():
            stack, _, number = line.rpartition(" ")
            samples = int(number)
            total += samples
            name = next((n for n, keys in PROFILE_CATEGORIES if any(k in stack for k in keys)), "trio scheduler, other")
            counts[name] = counts.get(name, 0) + samples
    return {name: round(n / total, 3) for name, n in sorted(counts.items(), key=lambda kv: -kv[1])} if total else {}
