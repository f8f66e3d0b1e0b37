#!/usr/bin/env python3
"""Sync, measured: a late joiner fetches 100,000 posts from one peer; then a node that already
holds 99 % of them re-syncs. Separate node processes on loopback, a real Anvil, real SQLite.

Node A is filled directly (its store takes the posts through the same validation as sync) before
it starts; node C is filled the same way with the first 99 %. Then:

1. node B starts empty with A as its only peer and syncs everything;
2. node C starts with A as its only peer and syncs the newest 1 %.

Time and bytes come from the nodes' own sync records (``kiez status``: bytes are what the sync
protocol wrote and read on its stream, before libp2p's Noise and yamux framing). Bytes are shown
relative to the size of the posts themselves (the sum of their envelopes). The last line printed
is one JSON object.

Usage: .venv/bin/python scripts/bench_sync.py [--posts 100000]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import trio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from governance.anvil import start_anvil  # noqa: E402
from governance.client import CommunityClient  # noqa: E402
from governance.devchain import deploy_dev_community  # noqa: E402
from node.chain import ChainWatcher  # noqa: E402
from node.cluster import NodeProcess, app_key_of, peer_addr, prepare_home, wait_until  # noqa: E402
from node.config import NodeConfig, read_secret  # noqa: E402
from node.core.signing import Signer  # noqa: E402
from node.core.types import Community, Kind, PostBody  # noqa: E402
from node.core.validation import Via  # noqa: E402
from node.service import NodeService  # noqa: E402
from node.store import Store  # noqa: E402

WORDS = "repair café ladder garden bread canal bike lamp radio meeting sunday neighbours tools share".split()


def make_posts(signers: list[Signer], community: Community, count: int) -> list[bytes]:
    """``count`` posts, oldest first, spread over the last eight minutes (inside every validity
    window: the keys were authorised just before)."""
    now = int(time.time() * 1000)
    start = now - 8 * 60 * 1000
    posts = []
    for n in range(count):
        text = f"#{n}: " + " ".join(WORDS[(n * 7 + k) % len(WORDS)] for k in range(12))
        posts.append(signers[n % len(signers)].envelope(community, Kind.POST, PostBody(text), start + n * 4))
    return posts


def fill(config: NodeConfig, client: CommunityClient, envelopes: list[bytes]) -> None:
    """Stores posts in a node's database (before it starts), through sync validation."""
    store = Store.open(config.db_path)
    view = store.load_view()
    watcher = ChainWatcher(client, store, view)

    async def catch_up() -> None:
        while await watcher.poll_once():
            pass

    trio.run(catch_up)
    community = Community(config.chain_id, bytes.fromhex(config.community[2:]))
    service = NodeService(store, view, Signer(read_secret(config.app_key_path, 32)), community)
    for start in range(0, len(envelopes), 5000):
        service.ingest_batch(envelopes[start : start + 5000], Via.SYNC)
    stored = store.counts()["post"]
    store.close()
    if stored != len(envelopes):
        raise SystemExit(f"filling {config.name}: {stored} of {len(envelopes)} posts stored")


def sync_record(node: NodeProcess, peer_id: str, expected: int) -> dict[str, Any]:
    """Waits for the node's completed session with ``peer_id`` and returns its record."""
    record: dict[str, Any] = {}

    def done() -> bool:
        status = node.api.get("/v1/status")
        record.update(status["sync"]["last"].get(peer_id, {}))
        return status["store"]["post"] >= expected and bool(record) and record.get("accepted", 0) > 0

    wait_until(done, 300, f"{node.name} to sync {expected} posts", interval=0.5)
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kiez-bench-sync-") as tmp, start_anvil() as anvil:
        root = Path(tmp)
        dev = deploy_dev_community(anvil, founders=3)
        client = dev.client()
        configs = {}
        for index, name in enumerate(["a", "b", "c"]):
            config = prepare_home(
                root / name, rpc_url=anvil.rpc_url, community=dev.address, chain_id=dev.chain_id, name=name
            )
            dev.client(dev.founders[index]).add_key(app_key_of(config))
            configs[name] = config
        community = Community(dev.chain_id, bytes.fromhex(dev.address[2:]))
        signers = [Signer(read_secret(c.app_key_path, 32)) for c in configs.values()]
        print(f"signing {args.posts:,} posts …", file=sys.stderr)
        posts = make_posts(signers, community, args.posts)
        size = sum(len(p) for p in posts)
        keep = args.posts * 99 // 100
        print(f"filling node a with {args.posts:,} posts and node c with {keep:,} …", file=sys.stderr)
        fill(configs["a"], client, posts)
        fill(configs["c"], client, posts[:keep])
        a = NodeProcess(configs["a"]).start()
        nodes = [a]
        try:
            a_id = a.ready["peer_id"]
            print("node b (empty) syncs from a …", file=sys.stderr)
            b_config = configs["b"].with_changes(bootstrap=(peer_addr(configs["a"]),))
            b_config.save()
            nodes.append(b := NodeProcess(b_config).start())
            full = sync_record(b, a_id, args.posts)
            print("node c (99 %) syncs from a …", file=sys.stderr)
            c_config = configs["c"].with_changes(bootstrap=(peer_addr(configs["a"]),))
            c_config.save()
            nodes.append(c := NodeProcess(c_config).start())
            resync = sync_record(c, a_id, args.posts)
        finally:
            for node in nodes:
                node.stop()
    full_bytes = full["bytes_sent"] + full["bytes_received"]
    resync_bytes = resync["bytes_sent"] + resync["bytes_received"]
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
    }
    print(
        f"full sync:  {args.posts:,} posts ({size / 1e6:.1f} MB) in {full['seconds']:.1f} s, "
        f"{full_bytes / 1e6:.1f} MB exchanged ({figures['full_sync_bytes_ratio']:.3f} × the posts)"
    )
    print(
        f"re-sync:    {figures['resync_missing']:,} missing in {resync['seconds']:.2f} s, {resync_bytes / 1e3:.0f} kB "
        f"exchanged ({figures['resync_bytes_vs_full_ratio']:.4f} × the full sync), {resync['rounds']} rounds"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
