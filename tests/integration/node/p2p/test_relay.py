"""Circuit relay v2 on loopback with three (or four) real hosts: A -- R -- B (and a stranger C).

R relays for members' nodes only (``is_member_peer``), within the limits it was given; A reaches
B through R, and a kiez stream and gossip run over that relayed connection. Waits poll a
condition under a deadline; nothing asserts on elapsed time.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import pytest
import trio
from libp2p.connection_types import ConnectionType
from libp2p.peer.id import ID

from node.p2p import DialFailed, GossipConfig, P2PHost, P2PVerdict, StreamFailed, open_gossip, open_host
from node.p2p.libp2p_compat.relay import HopLimits, MembersOnlyCircuitV2
from node.p2p.relay import RelayClient, open_relay
from node.p2p.streams import Stream

WAIT_S = 15.0
TOPIC = "kiez/test/relay"
ECHO = "/kiez/test/echo/1"
LIMITS = HopLimits(max_reservations=4, max_circuits=4, circuit_bytes=1 << 20, circuit_seconds=60)


@dataclass
class Candidate:
    peer_id: str
    addrs: tuple[str, ...]


@dataclass
class Lab:
    relay: P2PHost
    hop: MembersOnlyCircuitV2
    members: set[bytes]
    hosts: list[P2PHost]
    clients: list[RelayClient]


async def wait_until(condition: Callable[[], bool], what: str) -> None:
    with trio.move_on_after(WAIT_S):
        while not condition():
            await trio.sleep(0.02)
        return
    raise AssertionError(f"timed out waiting until {what}")


@asynccontextmanager
async def relay_lab(count: int, limits: HopLimits = LIMITS, members: int | None = None) -> AsyncIterator[Lab]:
    """A relay R and ``count`` hosts, each with a relay client whose candidate is R; the first
    ``members`` hosts (all by default) are members' nodes."""
    async with AsyncExitStack() as stack:
        relay = await stack.enter_async_context(open_host(os.urandom(32)))
        member_ids: set[bytes] = set()
        hop = open_relay(relay, limits, lambda peer: peer in member_ids, hop=True)
        hosts, clients = [], []
        for index in range(count):
            host = await stack.enter_async_context(open_host(os.urandom(32)))
            open_relay(host, limits, lambda peer: False, hop=False)
            client = RelayClient(host, lambda: [Candidate(relay.peer_id, (relay.addrs[0],))], want=1)
            host.dial_circuits_with(client.dial)
            if members is None or index < members:
                member_ids.add(ID.from_base58(host.peer_id).to_bytes())
            hosts.append(host)
            clients.append(client)
        yield Lab(relay, hop, member_ids, hosts, clients)


def circuit_to(lab: Lab, host: P2PHost) -> str:
    return f"{lab.relay.addrs[0]}/p2p-circuit/p2p/{host.peer_id}"


def relayed(host: P2PHost, peer_id: str) -> bool:
    conns = host.libp2p_host.get_network().get_connections(ID.from_base58(peer_id))
    return any(conn.get_connection_type() == ConnectionType.RELAYED for conn in conns)


def run(test: Callable[[], Awaitable[None]]) -> None:
    trio.run(test)


def test_relay_refuses_a_non_members_reservation_and_circuit() -> None:
    async def body() -> None:
        async with relay_lab(2, members=1) as lab:
            member, stranger = lab.hosts
            member_client, stranger_client = lab.clients
            await stranger_client.refresh()
            assert stranger_client.circuit_addrs() == []
            assert stranger_client.counters.refusals == {lab.relay.peer_id: "PERMISSION_DENIED"}
            await member_client.refresh()
            assert member_client.circuit_addrs() == [f"{lab.relay.addrs[0]}/p2p-circuit"]
            with pytest.raises(DialFailed, match="PERMISSION_DENIED"):
                await stranger.connect(circuit_to(lab, member))
            assert not stranger.is_connected(member.peer_id)
            assert lab.hop.counters.refused_not_member == 2
            assert lab.hop.reservation_count() == 1

    run(body)


def test_a_member_cannot_open_a_circuit_to_a_stranger() -> None:
    async def body() -> None:
        async with relay_lab(2, members=1) as lab:
            member, stranger = lab.hosts
            lab.members.add(ID.from_base58(stranger.peer_id).to_bytes())
            await lab.clients[1].refresh()  # the stranger reserved while it was a member...
            assert lab.clients[1].circuit_addrs()
            lab.members.discard(ID.from_base58(stranger.peer_id).to_bytes())  # ...then was removed
            with pytest.raises(DialFailed, match="PERMISSION_DENIED"):
                await member.connect(circuit_to(lab, stranger))

    run(body)


def test_reservation_and_circuit_limits_hold() -> None:
    async def body() -> None:
        limits = HopLimits(max_reservations=1, max_circuits=1, circuit_bytes=1 << 20, circuit_seconds=60)
        async with relay_lab(3, limits) as lab:
            first, second, third = lab.clients
            await first.refresh()
            await second.refresh()
            assert first.circuit_addrs()
            assert not second.circuit_addrs()
            assert second.counters.refusals == {lab.relay.peer_id: "RESOURCE_LIMIT_EXCEEDED"}
            await lab.hosts[1].connect(circuit_to(lab, lab.hosts[0]))  # the one circuit
            with pytest.raises(DialFailed, match="RESOURCE_LIMIT_EXCEEDED"):
                await lab.hosts[2].connect(circuit_to(lab, lab.hosts[0]))
            assert lab.hop.counters.active_circuits == 1
            del third

    run(body)


async def echo(stream: Stream) -> None:
    while (body := await stream.read_frame(1 << 20)) is not None:
        await stream.write_frame(body)


async def push_until_failure(stream: Stream) -> None:
    for _ in range(64):
        await stream.write_frame(os.urandom(4096))
        if await stream.read_frame(8192) is None:
            raise StreamFailed("relay", "closed")


def test_circuit_bytes_limit_resets_the_circuit() -> None:
    async def body() -> None:
        limits = HopLimits(max_reservations=4, max_circuits=4, circuit_bytes=64 * 1024, circuit_seconds=60)
        async with relay_lab(2, limits) as lab:
            a, b = lab.hosts
            b.set_stream_handler(ECHO, echo)
            await lab.clients[1].refresh()
            await a.connect(circuit_to(lab, b))
            stream = await a.open_stream(b.peer_id, ECHO)
            await stream.write_frame(b"small")
            assert await stream.read_frame(1024) == b"small"
            with pytest.raises(StreamFailed):  # the relay resets the circuit past its byte budget
                await push_until_failure(stream)
            await wait_until(lambda: not a.is_connected(b.peer_id), "the relayed connection went down")

    run(body)


def test_a_reaches_b_through_r_and_a_kiez_stream_and_gossip_work_over_the_circuit() -> None:
    async def body() -> None:
        async with relay_lab(2) as lab:
            a, b = lab.hosts
            b.set_stream_handler(ECHO, echo)
            changes: list[list[str]] = []
            lab.clients[1]._on_change = lambda: changes.append(lab.clients[1].circuit_addrs())
            await lab.clients[1].refresh()
            assert changes == [[f"{lab.relay.addrs[0]}/p2p-circuit"]]
            await a.connect(circuit_to(lab, b))
            assert relayed(a, b.peer_id)
            await wait_until(lambda: relayed(b, a.peer_id), "B holds the relayed connection")
            payload = os.urandom(200_000)  # several yamux windows through the relay's stream
            stream = await a.open_stream(b.peer_id, ECHO)
            await stream.write_frame(payload)
            assert await stream.read_frame(1 << 20) == payload
            await stream.close(5.0)

            got: Counter[bytes] = Counter()

            async def validator(topic: str, data: bytes, from_peer: str) -> P2PVerdict:
                got[data] += 1
                return P2PVerdict.ACCEPT

            async with open_gossip(a, GossipConfig(), validator) as ga, open_gossip(b, GossipConfig(), validator) as gb:
                await ga.subscribe(TOPIC)
                await gb.subscribe(TOPIC)
                await wait_until(lambda: b.peer_id in ga.mesh_peers(TOPIC), "A and B share a mesh over the relay")
                await ga.publish(TOPIC, b"post over a circuit")
                await wait_until(lambda: got[b"post over a circuit"] == 1, "B got the post")
            assert lab.clients[0].counters.circuits_dialed == 1

    run(body)
