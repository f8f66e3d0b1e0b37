"""One gossip node as its own process, for multi-node tests (many py-libp2p nodes in one process saturate its CPU).

    python gossip_peer.py --seed HEX --port N --topic T [--bootstrap MULTIADDR ...] [--interval S]

stdout carries one JSON object per line:
    {"event": "listening", "peer_id": ..., "addrs": [...]}     once, when ready
    {"event": "mesh", "peers": [...]}                          whenever the topic's mesh changes
    {"event": "message", "data": ..., "topic": ..., "from": ...}  every message accepted (first copy)
    {"event": "published", "data": ...}                        after each publish
Each line read from stdin is published (UTF-8, without the newline). EOF on stdin stops the node.
Logs go to stderr.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import sys
from typing import Any

import trio

from node.p2p import GossipConfig, P2PVerdict, maintain_peers, open_gossip, open_host
from node.p2p.gossip import Gossip

MESH_POLL_S = 0.05


def emit(event: str, **fields: Any) -> None:
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


class MemoryStore:
    """Insert-if-absent, as the node's SQLite store will be; accepted messages are printed."""

    def __init__(self) -> None:
        self.seen: set[bytes] = set()

    async def validate(self, topic: str, data: bytes, from_peer: str) -> P2PVerdict:
        if data in self.seen:
            return P2PVerdict.IGNORE
        self.seen.add(data)
        emit("message", data=data.decode(errors="replace"), topic=topic, **{"from": from_peer})
        return P2PVerdict.ACCEPT


async def report_mesh(gossip: Gossip, topic: str) -> None:
    last: list[str] | None = None
    while True:
        mesh = gossip.mesh_peers(topic)
        if mesh != last:
            emit("mesh", peers=mesh)
            last = mesh
        await trio.sleep(MESH_POLL_S)


async def publish_stdin(gossip: Gossip, topic: str, store: MemoryStore) -> None:
    stdin = trio.lowlevel.FdStream(os.dup(sys.stdin.fileno()))
    buffer = b""
    async with stdin:
        while chunk := await stdin.receive_some():
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                store.seen.add(line)  # "validated and stored" before publishing, like the node
                await gossip.publish(topic, line)
                emit("published", data=line.decode(errors="replace"))


async def run(args: argparse.Namespace) -> None:
    store = MemoryStore()
    async with (
        open_host(bytes.fromhex(args.seed), port=args.port) as host,
        open_gossip(host, GossipConfig(), store.validate) as gossip,
    ):
        await gossip.subscribe(args.topic)
        emit("listening", peer_id=host.peer_id, addrs=host.addrs)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(
                functools.partial(maintain_peers, host, args.bootstrap, args.interval, max_backoff=args.max_backoff)
            )
            nursery.start_soon(report_mesh, gossip, args.topic)
            await publish_stdin(gossip, args.topic, store)
            nursery.cancel_scope.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", required=True, help="32-byte identity seed, hex")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--bootstrap", nargs="*", default=[])
    parser.add_argument("--interval", type=float, default=0.2, help="maintain_peers check interval, seconds")
    parser.add_argument("--max-backoff", type=float, default=2.0, help="maintain_peers backoff cap, seconds")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    trio.run(run, args)


if __name__ == "__main__":
    main()
