#!/usr/bin/env python3
"""How fast a node's chain watcher catches up with a community's history.

Starts Anvil, deploys a community and gives it ``--events`` past events (app keys authorised by
the founders, many to a block, sent with automine off so the history takes seconds to make),
then times a fresh watcher following it from the deployment block into a fresh SQLite store:
every log fetched, checked, translated and applied, as a node that joins late does.

Usage: .venv/bin/python scripts/bench_watcher.py [--events 10000]
The last line is one JSON object: events, blocks, catch_up_s, events_per_s.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import trio

from governance.anvil import start_anvil
from governance.artifacts import community_artifact
from governance.devchain import deploy_dev_community
from node.chain import ChainWatcher, WatcherConfig
from node.store import Store

#: Transactions mined into one block (about 48k gas each, well inside Anvil's 30M block gas limit).
PER_BLOCK = 400


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000, help="past events to catch up on")
    args = parser.parse_args()
    anvil = start_anvil()
    try:
        community = deploy_dev_community(anvil)
        w3 = anvil.web3(timeout=120)
        contract = w3.eth.contract(address=community.address, abi=community_artifact().abi)
        founders = [f.address for f in community.founders]
        first = w3.eth.block_number
        print(f"making a history of {args.events:,} events …", file=sys.stderr, flush=True)
        w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
        hashes = []
        for i in range(args.events):
            data = contract.encode_abi("addKey", args=[i.to_bytes(4, "big") + b"\x07" * 28])
            tx = {"from": founders[i % len(founders)], "to": community.address, "data": data, "gas": 100_000}
            hashes.append(w3.eth.send_transaction(tx))  # type: ignore[arg-type]
            if len(hashes) % PER_BLOCK == 0:
                w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
        w3.eth.wait_for_transaction_receipt(hashes[-1], timeout=120)
        blocks = w3.eth.block_number - first
        with tempfile.TemporaryDirectory() as tmp:
            store = Store.open(Path(tmp) / "node.db")
            fast = WatcherConfig(poll_interval=0.01)
            watcher = ChainWatcher(community.client(), store, store.chain.load_view(), fast)
            print("a fresh watcher catches up …", file=sys.stderr, flush=True)
            started = time.perf_counter()
            trio.run(_catch_up, watcher)
            seconds = time.perf_counter() - started
            applied = watcher.status.events_applied
            store.close()
    finally:
        anvil.stop()
    print(f"caught up on {applied:,} events in {blocks} blocks in {seconds:.2f} s ({applied / seconds:,.0f}/s)")
    figures = {
        "events": applied,
        "blocks": blocks,
        "catch_up_s": round(seconds, 2),
        "events_per_s": round(applied / seconds),
    }
    print(json.dumps(figures))


async def _catch_up(watcher: ChainWatcher) -> None:
    while await watcher.poll_once():
        pass


if __name__ == "__main__":
    main()
