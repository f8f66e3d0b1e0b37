"""Real py-libp2p hosts on 127.0.0.1: Noise-only hosts, gossip delivery, verdicts, size cap, pacing.

pytest-trio is not installed, so every test runs its body with ``trio.run``. Waits poll for a
condition under a deadline; nothing asserts on elapsed time. "Exactly once" is checked after a
later *marker* message from the same publisher has reached every node: duplicates of earlier
messages travel the same paths and would have arrived first.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import multiaddr
import pytest
import trio
from libp2p import new_host
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.custom_types import TProtocol
from libp2p.network.exceptions import SwarmException
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import info_from_p2p_addr
from libp2p.pubsub.pb import rpc_pb2
from libp2p.security.insecure.transport import PLAINTEXT_PROTOCOL_ID, InsecureTransport

from node.p2p import (
    DialFailed,
    Gossip,
    GossipConfig,
    MessageTooLarge,
    NotSubscribed,
    P2PHost,
    P2PVerdict,
    message_id,
    open_gossip,
    open_host,
)

TOPIC = "kiez/test/posts"
WAIT_S = 15.0
GOSSIP_PEER = Path(__file__).with_name("gossip_peer.py")


# --- in-process nodes --------------------------------------------------------------------------


@dataclass
class Recorder:
    """A validator that records every call; data starting with ``reject_prefix`` is rejected, data
    starting with ``ignore_once_prefix`` is ignored the first time ("chain view behind")."""

    reject_prefix: bytes | None = None
    ignore_once_prefix: bytes | None = None
    calls: Counter[bytes] = field(default_factory=Counter)

    async def __call__(self, topic: str, data: bytes, from_peer: str) -> P2PVerdict:
        assert topic == TOPIC
        assert from_peer.startswith("12D3KooW")
        self.calls[data] += 1
        if self.reject_prefix is not None and data.startswith(self.reject_prefix):
            return P2PVerdict.REJECT
        if self.ignore_once_prefix is not None and data.startswith(self.ignore_once_prefix) and self.calls[data] == 1:
            return P2PVerdict.IGNORE
        return P2PVerdict.ACCEPT


@dataclass
class Node:
    host: P2PHost
    gossip: Gossip
    recorder: Recorder


@asynccontextmanager
async def running_nodes(
    recorders: list[Recorder], configs: list[GossipConfig] | None = None
) -> AsyncIterator[list[Node]]:
    configs = configs or [GossipConfig()] * len(recorders)
    async with AsyncExitStack() as stack:
        nodes = []
        for recorder, config in zip(recorders, configs, strict=True):
            host = await stack.enter_async_context(open_host(os.urandom(32)))
            gossip = await stack.enter_async_context(open_gossip(host, config, recorder))
            await gossip.subscribe(TOPIC)
            nodes.append(Node(host, gossip, recorder))
        yield nodes


async def wait_until(condition: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
    with trio.move_on_after(timeout):
        while not condition():
            await trio.sleep(0.01)
        return
    raise AssertionError(f"timed out waiting until {what}")


async def link(nodes: list[Node], edges: list[tuple[int, int]]) -> None:
    """Connect the given node pairs and wait until each pair is in the other's mesh."""
    for a, b in edges:
        await nodes[a].host.connect(nodes[b].host.addrs[0])
    for a, b in edges:
        await wait_until(functools.partial(in_each_others_mesh, nodes[a], nodes[b]), f"nodes {a} and {b} share a mesh")


def in_each_others_mesh(first: Node, second: Node) -> bool:
    first_mesh, second_mesh = first.gossip.mesh_peers(TOPIC), second.gossip.mesh_peers(TOPIC)
    return second.host.peer_id in first_mesh and first.host.peer_id in second_mesh


async def settle(nodes: list[Node], publisher: Node) -> None:
    """Publish a fresh marker and wait until every other node validated it (see module docstring)."""
    marker = b"marker " + os.urandom(8).hex().encode()
    await publisher.gossip.publish(TOPIC, marker)
    others = [node for node in nodes if node is not publisher]
    await wait_until(lambda: all(node.recorder.calls[marker] for node in others), "the marker arrived everywhere")


def run(test: Callable[[], Awaitable[None]]) -> None:
    trio.run(test)


def test_hosts_connect_and_know_each_other() -> None:
    async def body() -> None:
        seed = os.urandom(32)
        async with open_host(seed) as a, open_host(os.urandom(32)) as b:
            assert a.addrs[0].startswith("/ip4/127.0.0.1/tcp/")
            assert a.addrs[0].endswith(f"/p2p/{a.peer_id}")
            assert not a.addrs[0].startswith("/ip4/127.0.0.1/tcp/0/")  # the real bound port
            await b.connect(a.addrs[0])
            await b.connect(a.addrs[0])  # already connected: a no-op
            await wait_until(lambda: a.connected_peers() == [b.peer_id], "a sees b")
            assert b.connected_peers() == [a.peer_id]
        async with open_host(seed) as again:
            assert again.peer_id == a.peer_id  # same seed, same identity

    run(body)


def test_message_reaches_every_node_once_and_own_publish_is_not_revalidated() -> None:
    async def body() -> None:
        async with running_nodes([Recorder(), Recorder(), Recorder()]) as nodes:
            await link(nodes, [(0, 1), (1, 2), (0, 2)])  # a triangle: B and C each get two copies
            a, b, c = nodes
            hello = b"hello from A"
            await a.gossip.publish(TOPIC, hello)
            await wait_until(lambda: bool(b.recorder.calls[hello] and c.recorder.calls[hello]), "B and C got it")
            await settle(nodes, a)
            assert b.recorder.calls[hello] == 1
            assert c.recorder.calls[hello] == 1
            assert not a.recorder.calls  # the publisher stored it itself; its validator is not asked
            assert a.gossip.peers() == sorted([b.host.peer_id, c.host.peer_id])
            router = a.gossip._router  # the pitfall settings really reached py-libp2p's router
            assert router.heartbeat_interval == 1
            assert not router.adaptive_gossip_enabled
            assert not router.spam_protection_enabled

    run(body)


def test_message_ids_are_content_hashes() -> None:
    async def body() -> None:
        async with running_nodes([Recorder(), Recorder(), Recorder()]) as nodes:
            await link(nodes, [(0, 1), (1, 2)])
            a, b, c = nodes
            data = b"the same signed post"
            await a.gossip.publish(TOPIC, data)
            await a.gossip.publish(TOPIC, data)  # same bytes, new seqno: still the same message
            await wait_until(lambda: c.recorder.calls[data] > 0, "C got the post")
            await c.gossip.publish(TOPIC, data)  # another node republishing it changes nothing either
            await settle(nodes, a)
            await settle(nodes, c)
            assert b.recorder.calls[data] == 1
            assert c.recorder.calls[data] == 1
            assert message_id(rpc_pb2.Message(data=data, topicIDs=[TOPIC])) == hashlib.sha256(data).digest()
            # py-libp2p's gossip cache keys by from+seqno unless replaced; IHAVE must use our ids.
            assert a.gossip._router.mcache.get(hashlib.sha256(data).digest()) is not None

    run(body)


def test_rejected_message_is_not_forwarded() -> None:
    async def body() -> None:
        async with running_nodes([Recorder(), Recorder(reject_prefix=b"bad"), Recorder()]) as nodes:
            await link(nodes, [(0, 1), (1, 2)])  # a line: everything C gets passes through B
            a, b, c = nodes
            await a.gossip.publish(TOPIC, b"bad post")
            await a.gossip.publish(TOPIC, b"good post")
            await wait_until(lambda: c.recorder.calls[b"good post"] > 0, "C got the good post")
            await settle(nodes, a)
            assert b.recorder.calls[b"bad post"] == 1
            assert c.recorder.calls[b"bad post"] == 0
            assert b.recorder.calls[b"good post"] == c.recorder.calls[b"good post"] == 1
            # The reject was booked against A, the peer that sent it (inert under py's default weights).
            assert b.gossip._router.scorer is not None
            assert b.gossip._router.scorer.behavior_penalty[ID.from_base58(a.host.peer_id)] == 1

    run(body)


def test_ignored_message_is_not_forwarded_but_validated_again_later() -> None:
    async def body() -> None:
        async with running_nodes([Recorder(), Recorder(ignore_once_prefix=b"later"), Recorder()]) as nodes:
            await link(nodes, [(0, 1), (2, 1)])  # a line A - B - C
            a, b, c = nodes
            await a.gossip.publish(TOPIC, b"later post")
            await settle(nodes, a)
            assert b.recorder.calls[b"later post"] == 1  # ignored: not forwarded, nobody blamed
            assert c.recorder.calls[b"later post"] == 0
            assert b.gossip._router.scorer is not None
            assert b.gossip._router.scorer.behavior_penalty[ID.from_base58(a.host.peer_id)] == 0
            # Another copy arrives later (here: C publishes the same post): B asks its validator
            # again instead of replaying a cached verdict, accepts, and forwards it to A's side.
            await c.gossip.publish(TOPIC, b"later post")
            await wait_until(lambda: b.recorder.calls[b"later post"] == 2, "B validated the post again")
            await settle(nodes, c)
            assert a.recorder.calls[b"later post"] == 0  # A published it and has seen it

    run(body)


def test_messages_over_the_size_cap_are_refused_before_the_validator() -> None:
    async def body() -> None:
        roomy = GossipConfig(max_message_size=128 * 1024)
        strict = GossipConfig()  # 64 KiB
        async with running_nodes([Recorder(), Recorder(), Recorder()], [roomy, strict, roomy]) as nodes:
            await link(nodes, [(0, 1), (1, 2)])
            a, b, c = nodes
            big = b"x" * (100 * 1024)
            with pytest.raises(MessageTooLarge):
                await b.gossip.publish(TOPIC, big)  # our own publish is refused locally
            with pytest.raises(NotSubscribed):
                await b.gossip.publish("kiez/test/elsewhere", b"small")
            await a.gossip.publish(TOPIC, big)  # A allows it; B must refuse it unseen
            await a.gossip.publish(TOPIC, b"small")
            await wait_until(lambda: c.recorder.calls[b"small"] > 0, "C got the small post")
            await settle(nodes, a)
            assert big not in b.recorder.calls
            assert big not in c.recorder.calls  # and so it never travelled on

    run(body)


def test_two_hundred_back_to_back_messages_all_arrive() -> None:
    """Guards against py's 10 msg/s spam cap and its silent drops from full 32-slot queues."""

    async def body() -> None:
        async with running_nodes([Recorder(), Recorder(), Recorder()]) as nodes:
            await link(nodes, [(0, 1), (0, 2), (1, 2)])
            a, b, c = nodes
            sent = [f"post {i:03d}".encode() for i in range(200)]
            for data in sent:
                await a.gossip.publish(TOPIC, data)
            await wait_until(lambda: all(b.recorder.calls[d] and c.recorder.calls[d] for d in sent), "all arrived")
            await settle(nodes, a)
            assert all(b.recorder.calls[d] == 1 and c.recorder.calls[d] == 1 for d in sent)

    run(body)


# --- Noise only ----------------------------------------------------------------------------------


def test_our_host_refuses_plaintext_peers() -> None:
    async def body() -> None:
        key_pair = create_new_key_pair()
        listen = multiaddr.Multiaddr("/ip4/127.0.0.1/tcp/0")
        plaintext = new_host(
            key_pair=key_pair,
            sec_opt={TProtocol(PLAINTEXT_PROTOCOL_ID): InsecureTransport(key_pair)},
            listen_addrs=[listen],
        )
        default = new_host(listen_addrs=[listen])  # py's default offers Noise among others
        async with open_host(os.urandom(32)) as ours, plaintext.run([listen]), default.run([listen]):
            ours_info = info_from_p2p_addr(multiaddr.Multiaddr(ours.addrs[0]))
            with pytest.raises(SwarmException, match="unable to connect"):
                await plaintext.connect(ours_info)
            plaintext_addr = f"{plaintext.get_transport_addrs()[0]}/p2p/{plaintext.get_id()}"
            with pytest.raises(DialFailed, match="secure protocol"):
                await ours.connect(plaintext_addr)
            assert ours.connected_peers() == []
            assert plaintext.get_connected_peers() == []
            # Control: a peer that can speak Noise gets in, so the refusals above are about security.
            await default.connect(ours_info)
            assert ours.connected_peers() == [default.get_id().to_base58()]
            await plaintext.close()
            await default.close()

    run(body)


# --- separate processes --------------------------------------------------------------------------


class PeerProcess:
    """``gossip_peer.py`` in its own process; its stdout events are collected as they arrive."""

    def __init__(self, name: str, seed: bytes, log_dir: Path) -> None:
        self.name = name
        self.seed = seed
        self.log = log_dir / f"{name}.log"
        self.events: list[dict[str, Any]] = []
        self.process: trio.Process | None = None
        self.stdout_closed = trio.Event()

    async def start(self, nursery: trio.Nursery, port: int, bootstrap: list[str]) -> None:
        self.events = []
        self.stdout_closed = trio.Event()
        args = [sys.executable, str(GOSSIP_PEER), "--seed", self.seed.hex(), "--port", str(port), "--topic", TOPIC]
        args += ["--bootstrap", *bootstrap, "--interval", "0.2", "--max-backoff", "1.0"]
        with self.log.open("a") as log:
            self.process = await trio.lowlevel.open_process(
                args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log
            )
        nursery.start_soon(self._read, self.process, self.stdout_closed)
        await wait_until(lambda: bool(self.of("listening")), f"{self.name} listens", timeout=30)

    async def _read(self, process: trio.Process, closed: trio.Event) -> None:
        assert process.stdout is not None
        buffer = b""
        async for chunk in process.stdout:
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            self.events.extend(json.loads(line) for line in lines if line)
        closed.set()

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [event for event in self.events if event["event"] == kind]

    @property
    def addr(self) -> str:
        return str(self.of("listening")[0]["addrs"][0])

    @property
    def port(self) -> int:
        return int(self.addr.split("/tcp/")[1].split("/")[0])

    def received(self) -> set[str]:
        return {str(event["data"]) for event in self.of("message")}

    def mesh(self) -> list[str]:
        meshes = self.of("mesh")
        return list(meshes[-1]["peers"]) if meshes else []

    async def publish(self, lines: list[str]) -> None:
        assert self.process is not None
        assert self.process.stdin is not None
        await self.process.stdin.send_all("".join(f"{line}\n" for line in lines).encode())

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        with trio.fail_after(10):
            await self.process.wait()
            await self.stdout_closed.wait()  # no stale events after a restart

    async def stop(self) -> None:
        """Close stdin (a clean shutdown); kill it if it does not exit promptly."""
        if self.process is None or self.process.returncode is not None:
            return
        assert self.process.stdin is not None
        await self.process.stdin.aclose()
        with trio.move_on_after(10):
            await self.process.wait()
            return
        await self.kill()

    def tail(self) -> str:
        return f"--- {self.name} stderr ---\n" + "\n".join(self.log.read_text().splitlines()[-15:])


@pytest.mark.slow
def test_three_processes_deliver_and_reconnect_after_a_restart(tmp_path: Path) -> None:
    """A line P0 - P1 - P2 (P1 dials P0, P2 dials P1); P2 publishes, P0 gets it only through P1."""

    async def body() -> None:
        p0, p1, p2 = (PeerProcess(f"p{i}", os.urandom(32), tmp_path) for i in range(3))
        async with trio.open_nursery() as nursery:
            try:
                await p0.start(nursery, 0, [])
                await p1.start(nursery, 0, [p0.addr])
                await p2.start(nursery, 0, [p1.addr])
                await wait_until(lambda: len(p1.mesh()) == 2 and bool(p0.mesh() and p2.mesh()), "the mesh formed")

                first = [f"before restart {i}" for i in range(20)]
                await p2.publish(first)
                await wait_until(lambda: set(first) <= p0.received() and set(first) <= p1.received(), "20 arrived")

                port, p0_id = p0.port, p0.of("listening")[0]["peer_id"]
                await p0.kill()
                await wait_until(lambda: p1.mesh() == [p2.of("listening")[0]["peer_id"]], "P1 noticed P0 is gone")
                await p0.start(nursery, port, [])  # same seed and port, no bootstrap of its own
                assert (p0.port, p0.of("listening")[0]["peer_id"]) == (port, p0_id)
                # Only P1's maintain_peers can bring P0 back into the mesh.
                await wait_until(lambda: len(p1.mesh()) == 2 and bool(p0.mesh()), "P1 redialed P0")

                second = [f"after restart {i}" for i in range(5)]
                await p2.publish(second)
                await wait_until(lambda: set(second) <= p0.received(), "new messages reached the restarted P0")
            except Exception as error:
                raise AssertionError("\n".join(p.tail() for p in (p0, p1, p2))) from error
            finally:
                with trio.CancelScope(shield=True):
                    for peer in (p0, p1, p2):
                        await peer.stop()
                nursery.cancel_scope.cancel()

    run(body)
