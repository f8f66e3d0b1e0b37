"""mDNS on the LAN: py-libp2p's ``MDNSDiscovery`` (zeroconf), scoped to one community.

What py-libp2p 0.8.1 gives (libp2p/discovery/mdns): a zeroconf instance with its own threads
that registers a DNS-SD service whose TXT records carry our multiaddrs, and a browser that puts
every other such service's addresses into the peerstore and emits a *process-wide* event
(``peerDiscovery``). kiez uses it with three changes of use, none a patch:

- the service type is the community's own, ``_p2p-<10 hex digits>._udp.local.`` (a digest of the
  chain id and contract; DNS-SD service names are at most 15 characters), so nodes of other
  communities, and other libp2p apps, are not even seen;
- the addresses are given explicitly (``listen_addrs``, wildcards expanded), never taken from the
  host, which would announce ``0.0.0.0``;
- discoveries are read from the listener's own table (``discovered_services``) rather than the
  process-wide event, so several nodes in one process do not see each other's finds.

A service name says nothing trustworthy, so a peer found this way is only a candidate on
probation: the keeper disconnects it unless its peer record (a member's, with a valid binding)
arrives within a while (``keeper.Candidate.vouch``). Zeroconf's calls block (register sends
announcements and waits), so they run in a worker thread.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import trio
from libp2p.discovery.mdns.mdns import MDNSDiscovery

from node.p2p.addresses import expand_wildcards
from node.p2p.host import P2PHost

logger = logging.getLogger(__name__)


def service_type(chain_id: int, contract: bytes) -> str:
    """The DNS-SD service type of one community's nodes."""
    digest = hashlib.sha256(b"kiez/mdns/v1\n" + chain_id.to_bytes(32, "big") + contract).hexdigest()
    return f"_p2p-{digest[:10]}._udp.local."


@dataclass
class LanPeers:
    """The running discovery: which peers of the community it has seen on the LAN."""

    discovery: MDNSDiscovery
    own_peer_id: str
    #: the addresses last read for each peer: the peerstore forgets them when a connection to the
    #: peer is closed, while the peer is still announced on the LAN
    _addrs: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def found(self) -> list[tuple[str, tuple[str, ...]]]:
        """(peer id, dialable multiaddrs) of every node of the community seen on the LAN."""
        try:
            services = dict(self.discovery.listener.discovered_services)  # written by zeroconf's thread
        except RuntimeError:  # changed while copied: next round
            return []
        out = []
        for peer, _seen in services.values():
            peer_id = peer.to_base58()
            if peer_id == self.own_peer_id:
                continue
            try:
                stored = self.discovery.peerstore.addrs(peer)
            except Exception:  # py-libp2p raises PeerStoreError for a peer it forgot
                stored = []
            addrs = tuple(f"{a}/p2p/{peer_id}" for a in stored if "/p2p/" not in str(a)) or self._addrs.get(peer_id, ())
            if addrs:
                self._addrs[peer_id] = addrs
                out.append((peer_id, addrs))
        return out


@asynccontextmanager
async def open_lan_discovery(host: P2PHost, chain_id: int, contract: bytes) -> AsyncIterator[LanPeers | None]:
    """Announces this node on the LAN and browses for the community's other nodes; yields None
    (and logs why) where mDNS cannot run, e.g. no interface that takes multicast: the node works
    without it."""
    try:
        lan = await _start(host, chain_id, contract)
    except Exception as error:  # zeroconf raises OSError, its own errors, and more on odd networks
        logger.warning("mDNS is off: cannot announce on the LAN (%s: %s)", type(error).__name__, error)
        yield None
        return
    try:
        yield lan
    finally:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(lan.discovery.stop)


async def _start(host: P2PHost, chain_id: int, contract: bytes) -> LanPeers:
    listen = [a for addr in host.addrs for a in expand_wildcards(addr.rsplit("/p2p/", 1)[0])]
    port = int(listen[0].rsplit("/tcp/", 1)[1].split("/")[0]) if listen and "/tcp/" in listen[0] else 0
    network = host.libp2p_host.get_network()
    discovery = await trio.to_thread.run_sync(
        lambda: MDNSDiscovery(network, port=port, listen_addrs=listen, service_type=service_type(chain_id, contract))
    )
    try:
        # not ``start()``: it registers on the trio thread (zeroconf blocks while it announces) and
        # spawns a cleanup system task we do not need (the browser drops services that go away)
        await trio.to_thread.run_sync(discovery.broadcaster.register)
    except BaseException:
        await trio.to_thread.run_sync(discovery.stop)
        raise
    logger.info("mDNS: announcing %s on the LAN as %s", host.peer_id, discovery.service_type)
    return LanPeers(discovery, host.peer_id)
