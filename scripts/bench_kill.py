#!/usr/bin/env python3
"""Durability under crashes, measured: a node is killed with SIGKILL again and again (100 times
by default) while it ingests through its API, by gossip and by sync, and the chain moves.

A victim and two peers run as separate node processes on loopback, on a real Anvil chain, with
real SQLite. The victim's member posts through its API (8 a second), each peer's member through
its own (3 a second, gossiped to the victim), and one peer starts with a backlog it never
gossiped, which only sync brings. Each cycle the chain takes one governance decision (a member
joins or leaves, a spare app key is authorised or revoked, a post is hidden), while the victim
runs or while it is down. The victim is killed at a random moment, mostly while it runs,
sometimes while it starts up, and restarted. While it is down its database is read as the crash
left it: ``PRAGMA integrity_check``, every acknowledged post, the chain cursor (never behind the
last one read, nor behind what the node reported before the kill) and the view (members, keys,
hidden posts, applied logs) against the chain at that cursor. At the end every node must hold
every post and the victim the chain's whole view.

Progress goes to stderr; the last line printed is one JSON object of figures.

Usage: .venv/bin/python scripts/bench_kill.py [--kills 100] [--backlog 20000] [--seed 2026]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from governance.anvil import start_anvil
from node.harness.crashloop import KillLoop, KillPlan, start_crash_community


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=100, help="how many times the victim is killed")
    parser.add_argument("--backlog", type=int, default=20_000, help="posts the second peer starts with")
    parser.add_argument("--max-up", type=float, default=3.0, help="longest run before a kill, in seconds")
    parser.add_argument(
        "--starting-share", type=float, default=0.15, help="share of the kills that hit the node while it starts up"
    )
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    plan = KillPlan(kills=args.kills, max_up_s=args.max_up, starting_share=args.starting_share, seed=args.seed)

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="kiez-bench-kill-") as tmp, start_anvil() as anvil:
        say(f"founding the community; the second peer starts with {args.backlog:,} posts …")
        net = start_crash_community(anvil, Path(tmp), args.backlog)
        try:
            figures = KillLoop(net, plan, say).run()
        except Exception:
            for node in net.nodes:
                say(f"--- {node.name}'s log ---\n{node.log_tail(25)}")
            raise
        finally:
            net.stop()
    print(json.dumps(figures.as_dict()))


if __name__ == "__main__":
    main()
