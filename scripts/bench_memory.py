#!/usr/bin/env python3
"""A node's memory with 100,000 posts stored, beside the same node with none.

First a node with an empty store starts and is measured the same way (idle, after reading its
feed), so ``rss_growth_mb`` is what 100,000 posts add to a node's memory (the larger of the two
moments' differences; the target is 15 MB: the store lives on disk, not in the process). Then it
fills a node's store with 100,000 posts (through the same validation as sync), starts the node
process, and reads its resident set size (VmRSS in /proc) at three moments: idle after start-up,
after reading its whole feed through the API page by page, and at the peak of serving a full
sync of everything to a newly joined peer (the heaviest thing a node does with its history).

The last line printed is one JSON object (``rss_idle_mb``, ``rss_after_feed_mb``,
``rss_peak_mb``, target 150 MB, and ``rss_growth_mb``, target 15 MB).
Usage: .venv/bin/python scripts/bench_memory.py [--posts 100000]
"""

from __future__ import annotations

import argparse
import json
import sys
import threading

from procstat import rss_mb

from node.harness.history import fresh_history
from node.harness.process import NodeProcess, wait_until


class PeakSampler:
    """Samples a process's RSS every 50 ms in a thread, keeping the maximum."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, rss_mb(self.pid))

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def settle_and_read_feed(node: NodeProcess) -> tuple[float, float]:
    """The node's RSS once it follows the chain, and after reading its whole feed page by page."""
    assert node.process is not None
    pid = node.process.pid
    wait_until(lambda: node.api.get("/v1/status")["chain"]["healthy"], 60, "the node to follow the chain")
    idle = rss_mb(pid)
    page = node.api.get("/v1/feed?limit=200")
    while page["next"]:
        page = node.api.get(f"/v1/feed?limit=200&before={page['next']}")
    return idle, rss_mb(pid)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=100_000)
    args = parser.parse_args()
    with fresh_history(["full", "joiner", "empty"], prefix="kiez-bench-mem-") as history:
        empty = history.start("empty")
        try:
            empty_idle, empty_after_feed = settle_and_read_feed(empty)
        finally:
            empty.stop()
        posts = history.posts(args.posts, authors=["full"])
        print(f"filling a node with {args.posts:,} posts …", file=sys.stderr)
        history.fill("full", posts)
        node = history.start("full")
        joiner: NodeProcess | None = None
        try:
            idle, after_feed = settle_and_read_feed(node)
            assert node.process is not None
            pid = node.process.pid
            print("a new peer joins and syncs everything from it …", file=sys.stderr)
            with PeakSampler(pid) as sampler:
                joiner = history.start("joiner", peer="full")
                wait_until(
                    lambda: joiner is not None and joiner.api.get("/v1/status")["store"]["post"] >= args.posts,
                    300,
                    "the joiner to sync",
                    interval=2.0,
                )
            peak = max(sampler.peak, after_feed)
        finally:
            node.stop()
            if joiner is not None:
                joiner.stop()
    figures = {
        "posts": args.posts,
        "rss_idle_mb": round(idle, 1),
        "rss_after_feed_mb": round(after_feed, 1),
        "rss_peak_mb": round(peak, 1),
        "target_mb": 150,
        "rss_empty_idle_mb": round(empty_idle, 1),
        "rss_empty_after_feed_mb": round(empty_after_feed, 1),
        "rss_growth_mb": round(max(idle - empty_idle, after_feed - empty_after_feed), 1),
        "growth_target_mb": 15,
    }
    print(f"node RSS with {args.posts:,} posts: idle {idle:.0f} MB, after reading the feed {after_feed:.0f} MB, ")
    print(f"peak while serving a full sync {peak:.0f} MB (target 150 MB)")
    print(
        f"with an empty store: idle {empty_idle:.0f} MB, after the feed {empty_after_feed:.0f} MB; "
        f"growth {figures['rss_growth_mb']:.1f} MB (target 15 MB)"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
