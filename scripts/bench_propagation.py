#!/usr/bin/env python3
"""How long a post takes to reach every node of a devnet-like community.

Starts Anvil, a community and N node processes on loopback (the same code as ``kiez devnet``),
publishes posts through the nodes' APIs, round-robin over the authors, at a fixed rate, then reads
each node's SQLite file: a post's propagation time is the latest ``received_ms`` over all nodes
minus the author's signing timestamp (every node runs on this machine, so they share one clock).
All numbers come from the nodes' own records, not from polling.

Usage: .venv/bin/python scripts/bench_propagation.py [--nodes 3] [--posts 120] [--rate 10]
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from governance.anvil import start_anvil
from node.harness.cluster import start_network


def received(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {bytes(i).hex(): int(r) for i, r in conn.execute("SELECT id, received_ms FROM messages WHERE kind = 1")}
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--posts", type=int, default=120)
    parser.add_argument("--rate", type=float, default=10.0, help="posts per second, network-wide")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kiez-bench-") as tmp, start_anvil() as anvil:
        net = start_network(anvil, Path(tmp), size=args.nodes)
        try:
            print(f"{args.nodes} nodes up; publishing {args.posts} posts at {args.rate}/s …", file=sys.stderr)
            sent: dict[str, int] = {}
            start = time.monotonic()
            for n in range(args.posts):
                author = n % args.nodes
                item = net.nodes[author].api.post("/v1/posts", {"text": f"post {n} from node {author}"})
                sent[item["id"]] = int(item["timestamp_ms"])
                delay = start + (n + 1) / args.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                seen = [received(node.config.db_path) for node in net.nodes]
                if all(all(i in s for s in seen) for i in sent):
                    break
                time.sleep(0.2)
        finally:
            net.stop()
    latencies = []
    missing = 0
    for post_id, signed_at in sent.items():
        arrivals = [s.get(post_id) for s in seen]
        if any(a is None for a in arrivals):
            missing += 1
            continue
        latencies.append(max(a for a in arrivals if a is not None) - signed_at)
    latencies.sort()
    figures = {
        "nodes": args.nodes,
        "posts": len(sent),
        "rate_per_s": args.rate,
        "delivered_to_all": len(latencies),
        "missing": missing,
        "median_ms": statistics.median(latencies) if latencies else None,
        "p90_ms": latencies[int(0.9 * (len(latencies) - 1))] if latencies else None,
        "worst_ms": latencies[-1] if latencies else None,
    }
    print(
        f"posts {figures['posts']}, reached every node: {figures['delivered_to_all']}, "
        f"median {figures['median_ms']} ms, p90 {figures['p90_ms']} ms, worst {figures['worst_ms']} ms"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
