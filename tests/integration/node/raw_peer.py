"""A raw libp2p peer that publishes whatever bytes it is given: the attacker in node tests.

    python -m tests.integration.node.raw_peer --topic T --bootstrap MULTIADDR

It accepts every message it receives (it is not a kiez node) and publishes each line of stdin,
hex-decoded, to the topic. stdout: {"event": "ready", ...} once, {"event": "mesh", "peers": [...]}
when its mesh changes, {"event": "published", "size": N} after each publish.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import secrets
import sys
from typing import Any

import trio

from node.p2p import GossipConfig, P2PVerdict, maintain_peers, open_gossip, open_host
from node.p2p.gossip import Gossip


def emit(event: str, **fields: Any) -> None:
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


async def accept_all(topic: str, data: bytes, peer: str) -> P2PVerdict:
    return P2PVerdict.ACCEPT


async def report_mesh(gossip: Gossip, topic: str) -> None:
    last: list[str] | None = None
    while True:
        mesh = gossip.mesh_peers(topic)
        if mesh != last:
            emit("mesh", peers=mesh)
            last = mesh
        await trio.sleep(0.05)


async def publish_stdin(gossip: Gossip, topic: str) -> None:
    stdin = trio.lowlevel.FdStream(os.dup(sys.stdin.fileno()))
    buffer = b""
    async with stdin:
        while chunk := await stdin.receive_some():
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                data = bytes.fromhex(line.decode().strip())
                await gossip.publish(topic, data)
                emit("published", size=len(data))


async def run(args: argparse.Namespace) -> None:
    # Accept anything, including what a kiez node would refuse as oversized at the gossip layer.
    config = GossipConfig(max_message_size=512 * 1024)
    async with (
        open_host(secrets.token_bytes(32)) as host,
        open_gossip(host, config, accept_all) as gossip,
    ):
        await gossip.subscribe(args.topic)
        emit("ready", peer_id=host.peer_id, addrs=host.addrs)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(functools.partial(maintain_peers, host, args.bootstrap, 0.2, max_backoff=1.0))
            nursery.start_soon(report_mesh, gossip, args.topic)
            await publish_stdin(gossip, args.topic)
            nursery.cancel_scope.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--bootstrap", nargs="*", default=[])
    trio.run(run, parser.parse_args())


if __name__ == "__main__":
    main()
