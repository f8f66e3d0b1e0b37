#!/usr/bin/env python3
"""Sync, measured: a late joiner fetches 100,000 posts from one peer; then a node that already
holds 99 % of them re-syncs. Separate node processes on loopback, a real Anvil, real SQLite.

Node A is filled directly (its store takes the posts through the same validation as sync) before
it starts; node C is filled the same way with the first 99 %. Then:

1. node B starts empty with A as its only peer and syncs everything;
2. node C starts with A as its only peer and syncs the newest 1 %;
3. node D, filled with 99 % of the posts chosen at random (the 1 % missing spread over the whole
   history, as after a week offline with patchy connections), does the same.

Posts synced per second are set beside raw ed25519 verifications per second on two threads over
the same posts, measured in the same run (``sync_vs_verify_ratio``): a sync cannot be faster than
checking every signature it receives, so that ratio says how close to its floor it is.

Time and bytes come from the nodes' own sync records (``kiez status``: bytes are what the sync
protocol wrote and read on its stream, before libp2p's Noise and yamux framing). Bytes are shown
relative to the size of the posts themselves (the sum of their envelopes). The last line printed
is one JSON object.

Usage: .venv/bin/python scripts/bench_sync.py [--posts 100000]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from typing import Any

from verifyrate import verify_rate

from node.harness.history import fresh_history
from node.harness.process import NodeProcess, wait_until


def sync_record(node: NodeProcess, peer_id: str, expected: int) -> dict[str, Any]:
    """Waits for the node's completed session with ``peer_id`` and returns its record."""
    record: dict[str, Any] = {}

    def done() -> bool:
        # polled every 2 s: each status call counts the store, which would slow the sync down
        status = node.api.get("/v1/status")
        sessions = [r for r in status["sync"]["history"] if r["peer"] == peer_id and not r["error"]]
        if sessions:
            record.update(max(sessions, key=lambda r: r["accepted"]))  # the one that moved the posts
        return bool(status["store"]["post"] >= expected and record.get("accepted", 0) > 0)

    wait_until(done, 300, f"{node.name} to sync {expected} posts", interval=2.0)
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=100_000)
    args = parser.parse_args()
    with fresh_history(["a", "b", "c", "d"], prefix="kiez-bench-sync-") as history:
        print(f"signing {args.posts:,} posts …", file=sys.stderr)
        posts = history.posts(args.posts)
        size = sum(len(p) for p in posts)
        keep = args.posts * 99 // 100
        print(f"filling node a with {args.posts:,} posts and node c with {keep:,} …", file=sys.stderr)
        history.fill("a", posts)
        history.fill("c", posts[:keep])
        history.fill("d", random.Random(7).sample(posts, keep))  # noqa: S311 - a reproducible choice, not a secret
        print("raw ed25519 verifications on two threads …", file=sys.stderr)
        verify = verify_rate(posts, threads=2)
        a = history.start("a")
        nodes = [a]
        try:
            a_id = a.ready["peer_id"]
            print("node b (empty) syncs from a …", file=sys.stderr)
            nodes.append(b := history.start("b", peer="a"))
            full = sync_record(b, a_id, args.posts)
            b.stop()  # each re-sync below has a as its only source
            print("node c (99 %) syncs from a …", file=sys.stderr)
            nodes.append(c := history.start("c", peer="a"))
            resync = sync_record(c, a_id, args.posts)
            c.stop()
            print("node d (99 %, holes at random) syncs from a …", file=sys.stderr)
            nodes.append(d := history.start("d", peer="a"))
            holes = sync_record(d, a_id, args.posts)
            for node in nodes:
                sessions = [line for line in node.log_tail(200).splitlines() if "node.sync.service" in line]
                print(f"{node.name}: " + "\n   ".join(sessions[-3:]), file=sys.stderr)
        except Exception:
            for node in nodes:
                print(f"--- {node.name}'s log ---\n{node.log_tail(25)}", file=sys.stderr)
            raise
        finally:
            for node in nodes:
                node.stop()
    full_bytes = full["bytes_sent"] + full["bytes_received"]
    resync_bytes = resync["bytes_sent"] + resync["bytes_received"]
    holes_bytes = holes["bytes_sent"] + holes["bytes_received"]
    synced_per_s = args.posts / full["seconds"]
    figures = {
        "posts": args.posts,
        "posts_bytes": size,
        "full_sync_s": round(full["seconds"], 2),
        "full_sync_bytes": full_bytes,
        "full_sync_bytes_ratio": round(full_bytes / size, 4),
        "full_sync_rounds": full["rounds"],
        "resync_missing": args.posts - keep,
        "resync_s": round(resync["seconds"], 2),
        "resync_bytes": resync_bytes,
        "resync_bytes_vs_full_ratio": round(resync_bytes / full_bytes, 4),
        "resync_rounds": resync["rounds"],
        "holes_s": round(holes["seconds"], 2),
        "holes_bytes": holes_bytes,
        "resync_holes_bytes_vs_full_ratio": round(holes_bytes / full_bytes, 4),
        "holes_rounds": holes["rounds"],
        "synced_per_s": round(synced_per_s),
        "verify_2_threads_per_s": round(verify),
        "sync_vs_verify_ratio": round(synced_per_s / verify, 3),
    }
    print(
        f"full sync:  {args.posts:,} posts ({size / 1e6:.1f} MB) in {full['seconds']:.1f} s, "
        f"{full_bytes / 1e6:.1f} MB exchanged ({figures['full_sync_bytes_ratio']:.3f} × the posts)"
    )
    print(
        f"re-sync:    {figures['resync_missing']:,} missing in {resync['seconds']:.2f} s, {resync_bytes / 1e3:.0f} kB "
        f"exchanged ({figures['resync_bytes_vs_full_ratio']:.4f} × the full sync), {resync['rounds']} rounds"
    )
    print(
        f"random holes: {figures['resync_missing']:,} missing in {holes['seconds']:.2f} s, {holes_bytes / 1e3:.0f} kB "
        f"exchanged ({figures['resync_holes_bytes_vs_full_ratio']:.4f} × the full sync), {holes['rounds']} rounds"
    )
    print(
        f"speed:      {synced_per_s:,.0f} posts/s synced, {verify:,.0f}/s raw verifications on two threads "
        f"({figures['sync_vs_verify_ratio']:.2f} ×)"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
