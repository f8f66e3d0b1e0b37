"""Circuit relay v2 on py-libp2p 0.8.1: a members-only hop, and the client's wire steps.

What we use of ``libp2p.relay.circuit_v2`` and what we replace:

- ``CircuitV2Protocol`` (protocol.py) does the hop's RESERVE/CONNECT handling, the resource
  manager with its signed vouchers, the data copying with a circuit-wide byte budget and the
  duration cap (the framing fixes of py-libp2p#1537/#1538 are in 0.8.1). It has no way to say
  *who* may reserve or connect (every peer gets a slot), and its ``max_circuit_conns`` counts
  per reservation, not per relay. ``MembersOnlyCircuitV2`` adds both: the injected
  ``is_member_peer`` decides every hop stream (PERMISSION_DENIED otherwise) and the destination
  of every CONNECT, and one counter bounds the relay's concurrent circuits
  (RESOURCE_LIMIT_EXCEEDED beyond it).
- We do not run the protocol as an anyio ``Service`` (its ``run()`` only registers the two
  stream handlers and waits): ``install`` registers them on the host directly, so the hop lives
  and dies with the host and needs no service manager next to trio's nurseries.
- ``CircuitV2Transport`` (transport.py) pulls in the Kademlia DHT, relay discovery and a
  performance tracker and is not wired into ``new_host()``; a kiez node knows its relays
  (members' records), so ``reserve`` and ``dial_circuit`` below do the two client exchanges of
  the spec themselves and hand the relayed stream to the swarm's ordinary outbound upgrade
  (Noise, then yamux, over the relay's yamux stream).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import multiaddr
from libp2p.abc import IHost, INetConn, INetStream
from libp2p.connection_types import ConnectionType
from libp2p.network.connection.raw_connection import RawConnection
from libp2p.peer.id import ID
from libp2p.relay.circuit_v2.pb.circuit_pb2 import HopMessage
from libp2p.relay.circuit_v2.pb.circuit_pb2 import PeerId as CircuitPeerId
from libp2p.relay.circuit_v2.protocol import MAX_READ_RETRIES, PROTOCOL_ID, STOP_PROTOCOL_ID, CircuitV2Protocol
from libp2p.relay.circuit_v2.protocol_buffer import StatusCode, to_proto_status
from libp2p.relay.circuit_v2.resources import RelayLimits
from libp2p.relay.circuit_v2.utils import read_delimited_msg, write_delimited_msg

logger = logging.getLogger(__name__)

HOP_PROTOCOL = str(PROTOCOL_ID)
STOP_PROTOCOL = str(STOP_PROTOCOL_ID)
#: How long a reservation lasts on our relays; clients renew well before (relay_client).
RESERVATION_TTL_S = 3600


@dataclass(frozen=True)
class HopLimits:
    """What one relay grants, from the config (relay_max_reservations, ...)."""

    max_reservations: int
    max_circuits: int
    circuit_bytes: int
    circuit_seconds: int
    reservation_ttl_s: int = RESERVATION_TTL_S


@dataclass
class HopCounters:
    """What the hop did, for ``kiez status``."""

    reservations_accepted: int = 0
    refused_not_member: int = 0
    refused_limit: int = 0
    circuits_opened: int = 0
    active_circuits: int = 0
    bytes_relayed: int = 0


class MembersOnlyCircuitV2(CircuitV2Protocol):
    """py-libp2p's hop with a membership gate and a per-relay circuit cap (see module doc)."""

    def __init__(self, host: IHost, limits: HopLimits, is_member_peer: Callable[[bytes], bool]) -> None:
        super().__init__(
            host,
            limits=RelayLimits(
                duration=limits.circuit_seconds,
                data=limits.circuit_bytes,
                max_circuit_conns=limits.max_circuits,
                max_reservations=limits.max_reservations,
                reservation_ttl=limits.reservation_ttl_s,
            ),
            allow_hop=True,
        )
        self._hop_limits = limits
        self._is_member_peer = is_member_peer
        self.counters = HopCounters()
        self.hop_on = False

    def install(self, hop: bool) -> None:
        """Register the stop handler (every node can be reached through a relay) and, with
        ``hop``, the members-only hop handler."""
        self.host.set_stream_handler(STOP_PROTOCOL_ID, self._handle_stop_stream)
        self.set_hop(hop)

    async def _read_stream_with_retry(self, stream: INetStream, max_retries: int = MAX_READ_RETRIES) -> bytes | None:
        """Upstream's read in the circuit's data pump, counted (``bytes_relayed``)."""
        data = await super()._read_stream_with_retry(stream, max_retries)
        self.counters.bytes_relayed += len(data or b"")
        return data

    def set_hop(self, hop: bool) -> None:
        """Start or stop serving the hop: without it a peer's hop stream is refused at protocol
        negotiation, as by any node that does not relay. Circuits already open run on."""
        if hop == self.hop_on:
            return
        if hop:
            self.host.set_stream_handler(PROTOCOL_ID, self._gated_hop_stream)
        else:
            self.host.remove_stream_handler(PROTOCOL_ID)
        self.hop_on = hop

    def _is_member(self, peer: ID) -> bool:
        try:
            return bool(self._is_member_peer(peer.to_bytes()))
        except Exception:  # a failing membership lookup must refuse, never open the relay
            logger.exception("membership lookup failed for %s; refusing relay service", peer)
            return False

    async def _gated_hop_stream(self, stream: INetStream) -> None:
        peer = stream.muxed_conn.peer_id
        if not self._is_member(peer):
            self.counters.refused_not_member += 1
            logger.info("relay refused peer %s: not a current member's node", peer)
            await _refuse(stream, StatusCode.PERMISSION_DENIED)
            return
        await self._handle_hop_stream(stream)

    async def _handle_reserve(self, stream: INetStream, msg: HopMessage) -> None:
        before = self.resource_manager.has_reservation(stream.muxed_conn.peer_id)
        if not before and not self.resource_manager.can_accept_reservation(stream.muxed_conn.peer_id):
            self.counters.refused_limit += 1
        await super()._handle_reserve(stream, msg)
        if not before and self.resource_manager.has_reservation(stream.muxed_conn.peer_id):
            self.counters.reservations_accepted += 1

    async def _handle_connect(self, stream: INetStream, msg: HopMessage) -> None:
        target = ID(msg.peer.id)
        if not self._is_member(target):
            self.counters.refused_not_member += 1
            await _refuse(stream, StatusCode.PERMISSION_DENIED)
            return
        if self.counters.active_circuits >= self._hop_limits.max_circuits:
            self.counters.refused_limit += 1
            await _refuse(stream, StatusCode.RESOURCE_LIMIT_EXCEEDED)
            return
        self.counters.active_circuits += 1
        self.counters.circuits_opened += 1
        try:
            await super()._handle_connect(stream, msg)
        finally:
            self.counters.active_circuits -= 1

    def reservation_count(self) -> int:
        """Live reservations held on this relay."""
        self.resource_manager._clean_expired()
        return len(self.resource_manager._reservations)


async def _refuse(stream: INetStream, code: StatusCode) -> None:
    try:
        await write_delimited_msg(stream, HopMessage(type=HopMessage.STATUS, status=to_proto_status(code)))
        await stream.close()
    except Exception:  # the peer went away; nothing to tell it
        await stream.reset()


@dataclass(frozen=True)
class ReservationGrant:
    """A relay's answer to RESERVE: OK with an expiry (unix seconds), or a status code."""

    status: int
    expires_unix: int

    @property
    def ok(self) -> bool:
        return self.status == StatusCode.OK


async def reserve(stream: INetStream, own_id: ID) -> ReservationGrant:
    """Send RESERVE on a fresh hop ``stream`` and read the relay's STATUS."""
    try:
        await write_delimited_msg(stream, HopMessage(type=HopMessage.RESERVE, peer=CircuitPeerId(id=own_id.to_bytes())))
        reply = await read_delimited_msg(stream, HopMessage)
    finally:
        await stream.close()
    status = int(reply.status) if reply.HasField("status") else int(StatusCode.OK)
    expires = int(reply.reservation.expire) if reply.HasField("reservation") else int(time.time())
    return ReservationGrant(status, expires)


async def connect_through(host: IHost, stream: INetStream, target: ID, circuit_addr: str) -> INetConn | int:
    """Send CONNECT for ``target`` on a fresh hop ``stream``; on OK upgrade the stream into a
    swarm connection to ``target`` (Noise + yamux over it), else return the status code."""
    await write_delimited_msg(stream, HopMessage(type=HopMessage.CONNECT, peer=CircuitPeerId(id=target.to_bytes())))
    reply = await read_delimited_msg(stream, HopMessage)
    status = int(reply.status) if reply.HasField("status") else int(StatusCode.OK)
    if status != StatusCode.OK:
        await stream.reset()
        return status
    raw = RawConnection(
        stream=stream,
        initiator=True,
        connection_type=ConnectionType.RELAYED,
        addresses=[multiaddr.Multiaddr(circuit_addr)],
    )
    conn = await host.upgrade_outbound_connection(raw, target)
    set_info = getattr(conn, "set_transport_info", None)
    if callable(set_info):  # so DCUtR and status can tell a relayed connection from a direct one
        set_info([multiaddr.Multiaddr(circuit_addr)], ConnectionType.RELAYED)
    return conn


def status_name(code: int) -> str:
    """``PERMISSION_DENIED`` etc. for a relay status code."""
    try:
        return StatusCode(code).name
    except ValueError:
        return f"status {code}"
