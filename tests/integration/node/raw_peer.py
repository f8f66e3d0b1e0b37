"""A raw libp2p peer that misbehaves on purpose: the attacker in node tests.

    python -m tests.integration.node.raw_peer --topic T --bootstrap MULTIADDR [--mode MODE]

Modes:

- ``publish`` (default): a gossipsub peer that accepts every message it receives (it is not a kiez
  node) and publishes each line of stdin, hex-decoded, to the topic.
- ``subflood``: a gossipsub peer that, once in the mesh, writes RPCs full of subscription changes
  (subscribe to hundreds of made-up topics and to the community topic, then unsubscribe from all
  of them) on a stream of its own, as fast as the node reads them, until it is cut off.
- ``slow``: not a gossipsub peer at all: it opens a pubsub stream, announces a subscription to the
  topic and never reads anything, neither that stream nor the ones the node opens to it.

stdout, one JSON object a line: {"event": "ready", "peer_id": ...} once; {"event": "peers",
"peers": [...]} whenever the set of connected peers changes; in the gossip modes {"event":
"mesh", "peers": [...]} whenever the mesh changes and {"event": "published", "size": N} after each
publish; in ``subflood`` {"event": "flooding", "rpcs": N} every 20 RPCs written and {"event":
"cut_off"} once the node closed the stream or connection.
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
from libp2p.abc import INetStream
from libp2p.peer.id import ID
from libp2p.pubsub.gossipsub import PROTOCOL_ID_V11
from libp2p.pubsub.pb import rpc_pb2
from libp2p.utils import encode_varint_prefixed

from node.p2p import GossipConfig, P2PHost, P2PVerdict, maintain_peers, open_gossip, open_host
from node.p2p.gossip import GOSSIP_PROTOCOLS, Gossip
from node.p2p.host import parse_peer_multiaddr

#: Made-up topics per subscription-flood RPC (py-libp2p accepts up to 5000 entries per RPC).
FLOOD_TOPICS = 500


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


async def report_peers(host: P2PHost) -> None:
    last: list[str] | None = None
    while True:
        peers = host.connected_peers()
        if peers != last:
            emit("peers", peers=peers)
            last = peers
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


async def until_stdin_closes() -> None:
    """The test closes our stdin to stop us."""
    stdin = trio.lowlevel.FdStream(os.dup(sys.stdin.fileno()))
    async with stdin:
        while await stdin.receive_some():
            pass


def _frame(rpc: rpc_pb2.RPC) -> bytes:
    return bytes(encode_varint_prefixed(rpc.SerializeToString()))


def subscription_rpc(topics: list[str], subscribe: bool) -> rpc_pb2.RPC:
    return rpc_pb2.RPC(subscriptions=[rpc_pb2.RPC.SubOpts(subscribe=subscribe, topicid=t) for t in topics])


async def flood_subscriptions(host: P2PHost, gossip: Gossip, target: str, topic: str) -> None:
    """Waits until the target grafted us, then writes subscribe/unsubscribe RPCs until cut off."""
    while target not in gossip.mesh_peers(topic):
        await trio.sleep(0.05)
    topics = [f"spam/{secrets.token_hex(8)}" for _ in range(FLOOD_TOPICS)] + [topic]
    rounds = 0
    try:
        stream = await host.libp2p_host.new_stream(ID.from_base58(target), [PROTOCOL_ID_V11])
        while True:
            await stream.write(_frame(subscription_rpc(topics, True)))
            await stream.write(_frame(subscription_rpc(topics, False)))
            rounds += 1
            if rounds % 10 == 0:
                emit("flooding", rpcs=2 * rounds)
    except Exception as error:  # the node reset the stream or closed the connection: that is the point
        emit("cut_off", rpcs=2 * rounds, error=type(error).__name__)


async def never_read(stream: INetStream) -> None:
    """Stream handler of the slow peer: hold the node's stream open, read nothing."""
    await trio.sleep_forever()


def unread_bytes(host: P2PHost) -> int:
    """What the node sent us that sits unread in our yamux stream buffers (py-libp2p internals)."""
    total = 0
    for conns in host.libp2p_host.get_network().get_connections_map().values():
        for conn in conns:
            buffers = getattr(getattr(conn, "muxed_conn", None), "stream_buffers", {})
            total += sum(len(buffer) for buffer in buffers.values())
    return total


async def report_unread(host: P2PHost) -> None:
    last = -1
    while True:
        unread = unread_bytes(host)
        if unread != last:
            emit("unread", bytes=unread)
            last = unread
        await trio.sleep(0.2)


async def run_gossip(args: argparse.Namespace) -> None:
    # Accept anything, including what a kiez node would refuse as oversized at the gossip layer.
    config = GossipConfig(max_message_size=512 * 1024)
    target, _ = parse_peer_multiaddr(args.bootstrap[0])
    async with (
        open_host(secrets.token_bytes(32)) as host,
        open_gossip(host, config, accept_all) as gossip,
    ):
        await gossip.subscribe(args.topic)
        emit("ready", peer_id=host.peer_id, addrs=host.addrs)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(functools.partial(maintain_peers, host, args.bootstrap, 0.2, max_backoff=1.0))
            nursery.start_soon(report_mesh, gossip, args.topic)
            nursery.start_soon(report_peers, host)
            if args.mode == "subflood":
                nursery.start_soon(flood_subscriptions, host, gossip, target, args.topic)
                await until_stdin_closes()
            else:
                await publish_stdin(gossip, args.topic)
            nursery.cancel_scope.cancel()


async def run_slow(args: argparse.Namespace) -> None:
    target, _ = parse_peer_multiaddr(args.bootstrap[0])
    async with open_host(secrets.token_bytes(32)) as host:
        for protocol in GOSSIP_PROTOCOLS:
            host.libp2p_host.set_stream_handler(protocol, never_read)
        emit("ready", peer_id=host.peer_id, addrs=host.addrs)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(report_peers, host)
            await host.connect(args.bootstrap[0])
            stream = await host.libp2p_host.new_stream(ID.from_base58(target), [PROTOCOL_ID_V11])
            await stream.write(_frame(subscription_rpc([args.topic], True)))
            emit("subscribed", topic=args.topic)
            nursery.start_soon(report_unread, host)
            await until_stdin_closes()  # and never read a byte
            nursery.cancel_scope.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--bootstrap", nargs="+", required=True)
    parser.add_argument("--mode", choices=["publish", "subflood", "slow"], default="publish")
    args = parser.parse_args()
    trio.run(run_slow if args.mode == "slow" else run_gossip, args)


if __name__ == "__main__":
    main()
