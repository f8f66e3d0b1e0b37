"""A py-libp2p host that speaks Noise only, muxes with yamux and lives inside one trio scope.

Why not ``libp2p.new_host()`` with its defaults (see ARCHITECTURE.md, "py-libp2p facts"):

- Security: the default ``sec_opt`` offers Noise, TLS, SECIO *and plaintext*, so a peer could
  talk to us unencrypted and unauthenticated. We pass ``{"/noise": ...}`` and nothing else; a
  peer that cannot do Noise fails the multistream negotiation.
- Muxer: yamux only (js-libp2p interop; mplex is deprecated upstream), returning receive credit
  once per drained buffer, not after every read (``libp2p_compat.yamux``, installed here).
- Dialing policy: the swarm's auto-connector redials every peerstore entry every 10-30 s and on
  each disconnect. We stop it (``libp2p_compat.swarm``), so dialing happens in exactly one place
  (``peers.maintain_peers``, with per-peer backoff) and nobody fills the swarm's 60 s negative
  dial cache behind our back.
- Structure: ``open_host`` owns the host's lifetime. ``BasicHost.run`` keeps the swarm service in
  a nursery inside this context. py-libp2p runs the TCP listener (transport/tcp/tcp.py) and each
  identify exchange (host/basic_host.py, ``_schedule_identify``) as trio *system* tasks outside
  any nursery of ours; ``BasicHost.close()``, which we call on exit, cancels both. Nothing is
  module-level, so several hosts can run in one process.
- Inbound connections: py-libp2p's inbound handler never releases its connection-limit slot
  when an upgraded connection closes, and lets idle sockets starve honest dials; kiez's
  replacement (``libp2p_compat.inbound``, installed here) releases it on every close and admits
  pending handshakes under a deadline and caps that evict the oldest (``admission``).
- Streams: the node's own protocols (sync, blobs) get a kiez ``Stream`` (streams.py) from
  ``open_stream`` and ``set_stream_handler``, never py-libp2p's stream or its exceptions.

Known cost kept: ``Swarm.dial_peer`` waits a fixed 250 ms happy-eyeballs head start before it
returns even a finished dial (network/swarm.py, ``_HAPPY_EYEBALLS_DELAY``); that is latency once
per connection, not lost messages, and avoiding it needs ``max_connections_per_peer=1``, whose
trimming can close both ends of a simultaneous dial.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import multiaddr
import trio
from libp2p import new_host
from libp2p.abc import IHost
from libp2p.connection_types import ConnectionType
from libp2p.crypto.x25519 import create_new_key_pair as create_x25519_key_pair
from libp2p.custom_types import TProtocol
from libp2p.network.exceptions import SwarmException
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import info_from_p2p_addr
from libp2p.rcmgr.metrics import Direction
from libp2p.security.noise.transport import PROTOCOL_ID as NOISE_PROTOCOL_ID
from libp2p.security.noise.transport import Transport as NoiseTransport
from libp2p.stream_muxer.yamux.yamux import PROTOCOL_ID as YAMUX_PROTOCOL_ID
from libp2p.stream_muxer.yamux.yamux import Yamux

from node.p2p.admission import InboundLimits
from node.p2p.errors import BadMultiaddr, DialFailed
from node.p2p.identity import key_pair_from_seed, peer_id_of
from node.p2p.libp2p_compat import require_supported_libp2p
from node.p2p.libp2p_compat.inbound import InboundGate, install_inbound_gate
from node.p2p.libp2p_compat.swarm import close_peer, forget_failed_dial, stop_auto_connector
from node.p2p.libp2p_compat.yamux import install_yamux_credit
from node.p2p.streams import Stream, StreamHandler, open_on, raw_handler

logger = logging.getLogger(__name__)

# One dial (TCP connect + Noise + yamux, including the swarm's own 3 quick retries) may take this
# long before we give up and report DialFailed.
DIAL_TIMEOUT_S = 15.0
CLOSE_TIMEOUT_S = 5.0


def parse_peer_multiaddr(addr: str) -> tuple[str, multiaddr.Multiaddr]:
    """Split ``/ip4/.../tcp/.../p2p/<id>`` into (peer id, full multiaddr); ``BadMultiaddr`` if it cannot."""
    try:
        maddr = multiaddr.Multiaddr(addr)
        info = info_from_p2p_addr(maddr)
    except Exception as error:  # multiaddr raises several unrelated types for bad input
        raise BadMultiaddr(f"{addr!r} is not a dialable multiaddr ending in /p2p/<peer id>: {error}") from error
    return info.peer_id.to_base58(), maddr


class P2PHost:
    """The running host, as the rest of the node sees it. Created by ``open_host`` only."""

    def __init__(self, host: IHost, inbound: InboundGate) -> None:
        self._host = host
        self._inbound = inbound
        self._refused: Callable[[str], bool] | None = None
        self._circuit_dialer: Callable[[str], Awaitable[None]] | None = None

    @property
    def libp2p_host(self) -> IHost:
        """The underlying py-libp2p host, for ``node.p2p``'s own modules (gossip attaches to it) and
        for tests' raw attacker peers; the rest of the node uses streams (``open_stream``)."""
        return self._host

    @property
    def peer_id(self) -> str:
        return self._host.get_id().to_base58()

    @property
    def addrs(self) -> list[str]:
        """Our listen multiaddrs with the bound port and ``/p2p/<our id>``, ready to hand to peers
        (unless we listen on a wildcard such as 0.0.0.0, which peers cannot dial)."""
        suffix = f"/p2p/{self.peer_id}"
        return [f"{addr}{suffix}" for addr in self._host.get_transport_addrs()]

    def inbound_status(self) -> dict[str, Any]:
        """Inbound admission: pending handshakes, their limits and fates, established inbound
        connections and their limit (see ``admission``)."""
        return self._inbound.status()

    def connected_peers(self) -> list[str]:
        """Peer ids we hold at least one open connection to, sorted; refused peers (see
        ``refuse_peers``) are left out: a banned peer that redials is connected only until we close
        it again, and nothing (sync, the peer list) should start work with it meanwhile."""
        peers = (peer.to_base58() for peer in self._host.get_connected_peers())
        return sorted(peer for peer in peers if self._refused is None or not self._refused(peer))

    def relayed_peers(self) -> set[str]:
        """Peers whose every open connection runs through a relay (no direct one)."""
        out = set()
        for peer in self.connected_peers():
            conns = self._host.get_network().get_connections(ID.from_base58(peer))
            if conns and all(c.get_connection_type() is ConnectionType.RELAYED for c in conns):
                out.add(peer)
        return out

    def observed_ip(self, stream: Stream) -> str | None:
        """The IP address ``stream``'s peer connects from, or None over a relayed connection
        (whose far end is the relay) or when the transport does not say."""
        raw = stream.raw
        for conn in self._host.get_network().get_connections(raw.muxed_conn.peer_id):
            if conn.muxed_conn is raw.muxed_conn and conn.get_connection_type() is ConnectionType.RELAYED:
                return None
        remote = raw.get_remote_address()
        return None if remote is None else str(remote[0])

    def dialed_addr(self, peer_id: str) -> str | None:
        """The address (``/ip4/…/tcp/…/p2p/<peer>``) of a direct connection we dialed to
        ``peer_id``, or None: where others can reach that peer too, if it is public."""
        for conn in self._host.get_network().get_connections(ID.from_base58(peer_id)):
            relayed = conn.get_connection_type() is ConnectionType.RELAYED
            if relayed or getattr(conn, "direction", None) != Direction.OUTBOUND:
                continue
            for addr in conn.get_transport_addresses():
                text = str(addr)
                if "/tcp/" in text and "/p2p-circuit" not in text:
                    return f"{text.split('/p2p/', maxsplit=1)[0]}/p2p/{peer_id}"
        return None

    def listen_ports(self) -> list[int]:
        """The TCP ports we listen on."""
        ports = set()
        for addr in self._host.get_transport_addrs():
            parts = str(addr).split("/tcp/", 1)
            if len(parts) == 2 and parts[1].split("/", 1)[0].isdigit():
                ports.add(int(parts[1].split("/", 1)[0]))
        return sorted(ports)

    def is_connected(self, peer_id: str) -> bool:
        """Whether we hold an open connection to ``peer_id`` (base58) and do not refuse it."""
        if self._refused is not None and self._refused(peer_id):
            return False
        return bool(self._host.get_network().get_connections(ID.from_base58(peer_id)))

    def refuse_peers(self, refused: Callable[[str], bool] | None) -> None:
        """From now on ``connect`` fails for every peer id ``refused`` holds true (None: nobody).
        Gossip installs its ban list here, so that we do not dial a peer we just cut off."""
        self._refused = refused

    async def disconnect(self, peer_id: str) -> None:
        """Close every connection to ``peer_id`` (bounded in time; a no-op if there is none)."""
        with trio.move_on_after(CLOSE_TIMEOUT_S):
            await close_peer(self._host, ID.from_base58(peer_id))
        logger.debug("disconnected from peer %s", peer_id)

    def dial_circuits_with(self, dialer: Callable[[str], Awaitable[None]] | None) -> None:
        """From now on ``connect`` hands ``/p2p-circuit`` addresses to ``dialer`` (the relay
        client's ``dial``); without one they fail as undialable."""
        self._circuit_dialer = dialer

    async def connect(self, addr: str) -> None:
        """Connect to the peer at ``addr`` (a no-op if already connected).

        Raises ``BadMultiaddr`` for an address we cannot use and ``DialFailed`` when the peer is
        unreachable, is not who the address says, cannot negotiate Noise + yamux, or is refused
        (banned for misbehaving, see ``refuse_peers``).
        """
        peer_id, maddr = parse_peer_multiaddr(addr)
        if peer_id == self.peer_id:
            raise BadMultiaddr(f"{addr} is this node itself")
        if self._refused is not None and self._refused(peer_id):
            raise DialFailed(peer_id, "refused: the peer is banned for misbehaving")
        if "/p2p-circuit" in addr:
            if self.is_connected(peer_id):
                return
            if self._circuit_dialer is None:
                raise DialFailed(peer_id, "a relay address, and this node has no relay client")
            await self._circuit_dialer(addr)
            return
        info = info_from_p2p_addr(maddr)
        forget_failed_dial(self._host, info.peer_id)
        try:
            with trio.fail_after(DIAL_TIMEOUT_S):
                await self._host.connect(info)
        except trio.TooSlowError as error:
            raise DialFailed(peer_id, f"no connection within {DIAL_TIMEOUT_S:.0f} s") from error
        except (SwarmException, OSError) as error:
            raise DialFailed(peer_id, _describe(error)) from error
        logger.debug("connected to peer %s at %s", peer_id, addr)

    async def open_stream(self, peer_id: str, protocol: str) -> Stream:
        """A new stream to connected peer ``peer_id`` for ``protocol``; ``StreamFailed`` if it
        cannot be opened (no connection, the peer does not speak ``protocol``, ...)."""
        return await open_on(lambda: self._host.new_stream(ID.from_base58(peer_id), [TProtocol(protocol)]), peer_id)

    def set_stream_handler(self, protocol: str, handler: StreamHandler) -> None:
        """From now on every stream a peer opens for ``protocol`` is handed to ``handler``."""
        self._host.set_stream_handler(TProtocol(protocol), raw_handler(handler))


def _describe(error: BaseException) -> str:
    """The innermost useful reason of a py-libp2p dial error (they nest 2-4 deep)."""
    reasons = [str(error)]
    cause = error.__cause__
    while cause is not None and len(reasons) < 4:
        reasons.append(f"{type(cause).__name__}: {cause}")
        cause = cause.__cause__
    return " <- ".join(reason for reason in reasons if reason)


def _listen_multiaddr(host: str, port: int) -> multiaddr.Multiaddr:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError as error:
        raise BadMultiaddr(f"listen host must be an IP address, got {host!r}") from error
    if not 0 <= port <= 65535:
        raise BadMultiaddr(f"listen port must be 0-65535, got {port}")
    family = "ip4" if ip.version == 4 else "ip6"
    return multiaddr.Multiaddr(f"/{family}/{ip}/tcp/{port}")


@asynccontextmanager
async def open_host(
    seed: bytes, host: str = "127.0.0.1", port: int = 0, inbound: InboundLimits | None = None
) -> AsyncIterator[P2PHost]:
    """Run a Noise-only, yamux host on ``host:port`` (0 = any free port) for the duration of the block.

    The identity comes from the 32-byte ``seed`` (see ``identity``), so restarts keep the peer id.
    ``inbound`` bounds the connections that have not finished their handshake (``admission``;
    None: the defaults, what a public node uses).
    """
    require_supported_libp2p()
    key_pair = key_pair_from_seed(seed)
    install_yamux_credit()  # one WINDOW_UPDATE per drained buffer, not per read (process-wide, idempotent)
    listen_addr = _listen_multiaddr(host, port)
    # Noise's static DH key is a fresh x25519 key per run, as in go/js: the libp2p identity key
    # signs it during the handshake, so it needs no persistence.
    noise = NoiseTransport(key_pair, noise_privkey=create_x25519_key_pair().private_key)
    libp2p_host = new_host(
        key_pair=key_pair,
        sec_opt={NOISE_PROTOCOL_ID: noise},
        muxer_opt={TProtocol(YAMUX_PROTOCOL_ID): Yamux},
        listen_addrs=[listen_addr],
    )
    gate = install_inbound_gate(libp2p_host, inbound or InboundLimits())  # before run(), which starts listening
    async with libp2p_host.run(listen_addrs=[listen_addr]):
        try:
            await stop_auto_connector(libp2p_host)
            wrapper = P2PHost(libp2p_host, gate)
            logger.info("p2p host %s listening on %s", peer_id_of(key_pair), ", ".join(wrapper.addrs))
            yield wrapper
        finally:
            # Cancels the identify system tasks and closes connections and listeners; run()'s exit
            # then stops the swarm service. Bounded, so a wedged connection cannot hang shutdown.
            with trio.CancelScope(deadline=trio.current_time() + CLOSE_TIMEOUT_S, shield=True):
                await libp2p_host.close()
