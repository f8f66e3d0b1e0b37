"""DCUtR hole punching on py-libp2p 0.8.1, with the addresses kiez knows.

py-libp2p's ``DCUtRProtocol`` (``libp2p.relay.circuit_v2.dcutr``) does the exchange of the spec
(CONNECT, CONNECT, SYNC, then both sides dial at once, bound to their listen port, which the TCP
listener opens with SO_REUSEPORT for TCP simultaneous open), drives it for every relayed peer
and closes the relayed connection once a direct one stands. ``new_host()`` does not start it;
``KiezDCUtR`` is started by ``open_dcutr`` in the caller's nursery.

What we change: the addresses we tell the peer to dial. Upstream predicts them from identify's
observed-address manager, which a kiez host does not run (our peers' observations of us come
from the dial-back instead, ``node.p2p.dialback``), so without this it would send our private
listen addresses, which nobody outside our NAT can reach. We send (observed public IP, listen
port) for each IP a member's node saw us come from: the NAT keeps the source port of a dial that
leaves from the listen port whenever it can (Linux MASQUERADE does), so that is where the peer's
simultaneous dial meets ours.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from libp2p.abc import IHost
from libp2p.connection_types import ConnectionType
from libp2p.peer.id import ID
from libp2p.relay.circuit_v2.dcutr import MAX_OBSERVED_ADDRS, RELAY_CLOSE_GRACE_PERIOD, DCUtRProtocol
from libp2p.tools.anyio_service import background_trio_service
from multiaddr import Multiaddr

logger = logging.getLogger(__name__)

#: Seconds a relayed connection stays open after a hole punch replaced it (upstream's grace).
RELAY_CLOSE_S = RELAY_CLOSE_GRACE_PERIOD


class KiezDCUtR(DCUtRProtocol):
    """py-libp2p's DCUtR, told our public addresses by the dial-back (see module doc)."""

    def __init__(
        self, host: IHost, observed_ips: Callable[[], list[str]], listen_ports: Callable[[], list[int]]
    ) -> None:
        super().__init__(host)
        self.punches = 0
        self.punched = 0
        #: Peers a punch made direct. Upstream's own set forgets a peer when *any* of its
        #: connections closes, the replaced relayed one included, so the status asks the swarm.
        self.upgraded: set[ID] = set()
        self._observed_ips = observed_ips
        self._listen_ports = listen_ports

    async def _get_observed_addrs(self) -> list[bytes]:
        out: list[bytes] = []
        for ip in self._observed_ips():
            try:
                family = ipaddress.ip_address(ip).version
            except ValueError:
                continue
            for port in self._listen_ports():
                out.append(Multiaddr(f"/ip{family}/{ip}/tcp/{port}").to_bytes())
        if not out:  # nobody dialled us back yet: upstream's choice (listen addresses)
            return await super()._get_observed_addrs()
        logger.debug("DCUtR: telling the peer to dial %d predicted addresses", len(out))
        return out[:MAX_OBSERVED_ADDRS]

    async def _perform_hole_punch(self, peer_id: ID, addrs: list[Multiaddr], as_responder: bool = False) -> bool:
        self.punches += 1
        punched = bool(await super()._perform_hole_punch(peer_id, addrs, as_responder))
        self.punched += punched
        if punched:
            self.upgraded.add(peer_id)
        logger.info("hole punch with %s: %s", peer_id, "direct" if punched else "failed, staying relayed")
        return punched

    def direct_peers(self) -> list[str]:
        """Peers a punch made direct that we still hold a direct connection to."""
        network = self.host.get_network()
        return sorted(
            peer.to_base58()
            for peer in self.upgraded | self._direct_connections
            if any(c.get_connection_type() is not ConnectionType.RELAYED for c in network.get_connections(peer))
        )

    def relay_legs_open(self) -> list[str]:
        """Of ``direct_peers``, those whose replaced relayed connection is still open (it closes
        ``RELAY_CLOSE_S`` after the punch)."""
        network = self.host.get_network()
        return [
            peer
            for peer in self.direct_peers()
            if any(
                c.get_connection_type() is ConnectionType.RELAYED for c in network.get_connections(ID.from_base58(peer))
            )
        ]

    def status(self) -> dict[str, Any]:
        """Peers upgraded to a direct connection (still held), and the punches tried and won."""
        return {
            "running": True,
            "direct_peers": self.direct_peers(),
            "relay_legs_open": self.relay_legs_open(),
            "punches": self.punches,
            "punched": self.punched,
        }


@asynccontextmanager
async def open_dcutr(
    host: IHost, observed_ips: Callable[[], list[str]], listen_ports: Callable[[], list[int]]
) -> AsyncIterator[KiezDCUtR]:
    """Run DCUtR on ``host`` (its stream handler and its auto-drive loop) for the block."""
    dcutr = KiezDCUtR(host, observed_ips, listen_ports)
    async with background_trio_service(dcutr):
        await dcutr.event_started.wait()
        yield dcutr
