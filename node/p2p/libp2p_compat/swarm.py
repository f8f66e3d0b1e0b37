"""The swarm: refusing banned peers' connections, and dialing in one place only.

py-libp2p 0.8.1 has no peer-id connection gater (its ``ConnectionGate`` filters IP addresses,
network/swarm.py) and its pubsub blacklist refuses no connection (libp2p/py-libp2p#706, open,
calls the blacklist's management unfinished). Its swarm also redials on its own (the
auto-connector) and remembers failed dials for 60 s; kiez dials from ``peers.maintain_peers`` only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol, cast

import trio
from libp2p.abc import IHost, INetConn, INetStream, INetwork, INotifee
from libp2p.network.swarm import Swarm
from libp2p.peer.id import ID
from multiaddr import Multiaddr


class ConnectionGate(Protocol):
    def is_banned(self, peer: ID) -> bool: ...
    def refuse_connection(self, conn: INetConn) -> None: ...


class BanNotifee(INotifee):
    """Refuses banned peers at the swarm, the next best thing to a connection gater: closing the
    connection the moment it is established, before pubsub or sync do anything on it."""

    def __init__(self, gate: ConnectionGate) -> None:
        self._gate = gate

    async def connected(self, network: INetwork, conn: INetConn) -> None:
        if self._gate.is_banned(conn.muxed_conn.peer_id):
            self._gate.refuse_connection(conn)
        await trio.lowlevel.checkpoint()

    async def disconnected(self, network: INetwork, conn: INetConn) -> None:
        await trio.lowlevel.checkpoint()

    async def opened_stream(self, network: INetwork, stream: INetStream) -> None:
        await trio.lowlevel.checkpoint()

    async def closed_stream(self, network: INetwork, stream: INetStream) -> None:
        await trio.lowlevel.checkpoint()

    async def listen(self, network: INetwork, multiaddr: Multiaddr) -> None:
        await trio.lowlevel.checkpoint()

    async def listen_close(self, network: INetwork, multiaddr: Multiaddr) -> None:
        await trio.lowlevel.checkpoint()


@contextmanager
def refusing_banned(host: IHost, gate: ConnectionGate) -> Iterator[None]:
    """A ``BanNotifee`` on ``host``'s swarm for the duration of the block."""
    notifee = BanNotifee(gate)
    swarm = host.get_network()
    swarm.register_notifee(notifee)
    try:
        yield
    finally:
        if isinstance(swarm, Swarm):  # INetwork has no remove_notifee
            swarm.remove_notifee(notifee)


async def stop_auto_connector(host: IHost) -> None:
    """Stop the swarm's auto-connector, which redials every peerstore entry every 10-30 s and on
    each disconnect (no upstream issue: it is py-libp2p's default and cannot be turned off in
    ``new_host``), so that dialing happens in ``peers.maintain_peers`` only, with per-peer backoff."""
    await cast(Swarm, host.get_network()).auto_connector.stop()


def forget_failed_dial(host: IHost, peer: ID) -> None:
    """Clear the swarm's negative dial cache for ``peer``: py-libp2p refuses to dial a peer for 60 s
    after a failed dial (no upstream issue), but a restarted peer must be reachable at once and
    ``maintain_peers`` does its own backoff."""
    cast(Swarm, host.get_network()).unblock_peer(peer)


async def close_peer(host: IHost, peer: ID) -> None:
    """Close every connection to ``peer`` (``Swarm.close_peer``, not part of ``INetwork``)."""
    await cast(Swarm, host.get_network()).close_peer(peer)
