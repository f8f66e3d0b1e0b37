"""Reachability and the relay, switched by what the dial-back finds.

- Every node answers dial-backs for members' nodes and asks them in turn (``node.p2p.dialback``);
  the verdict (unknown, public, private) is in ``kiez status``.
- A node that is public (or configured ``relay_hop = "on"``) serves circuit relay v2 hops for
  members' nodes; ``relay_hop = "off"`` never does.
- A node that is private keeps reservations on one or two members' nodes that relay, and its
  peer record lists the circuit addresses (``<relay>/p2p-circuit``) that reach it; when it turns
  out public after all, it drops them.
- Every node dials ``/p2p-circuit`` addresses through the relay they name, so two homes behind
  NATs connect through a public member's node; gossip, sync and attachments run over it as over
  any connection, within the relay's byte and time limits (the keeper dials again after a
  circuit ends).
- Every node runs DCUtR (``node.p2p.libp2p_compat.dcutr``): over a relayed connection the two
  sides exchange the public addresses the dial-back saw and dial each other at once, and where
  both NATs keep the listen port (most home routers) the relayed connection is replaced by a
  direct one; ``kiez status`` lists which peers went direct. Where a NAT picks a new port for
  every connection, the peers stay relayed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import trio

from node.config import NodeConfig
from node.daemon.discovery import LAN, DialSources
from node.p2p.dialback import PRIVATE, DialBack
from node.p2p.host import P2PHost
from node.p2p.keeper import Candidate
from node.p2p.libp2p_compat.dcutr import KiezDCUtR, open_dcutr
from node.p2p.libp2p_compat.relay import HopLimits, MembersOnlyCircuitV2
from node.p2p.relay import CHECK_INTERVAL_S, RelayClient, hop_wanted, open_relay


@dataclass
class Connectivity:
    """The dial-back, the hop and the relay client of one node (see module doc)."""

    config: NodeConfig
    host: P2PHost
    sources: DialSources
    #: Called when the circuit addresses change, so the peer record is republished.
    on_addrs_changed: Callable[[], None]
    dialback: DialBack = field(init=False)
    hop: MembersOnlyCircuitV2 = field(init=False)
    client: RelayClient = field(init=False)
    _wake: trio.Event = field(default_factory=trio.Event)
    _dcutr: KiezDCUtR | None = None

    def __post_init__(self) -> None:
        config = self.config
        self.dialback = DialBack(self.host, self.sources.is_member_peer, self.host.listen_ports)
        self.dialback.register()
        limits = HopLimits(
            config.relay_max_reservations,
            config.relay_max_circuits,
            config.relay_circuit_bytes,
            config.relay_circuit_seconds,
        )
        self.hop = open_relay(self.host, limits, self._is_member_peer_bytes, hop_wanted(config.relay_hop, "unknown"))
        self.client = RelayClient(self.host, self._relay_candidates, self.on_addrs_changed)
        self.host.dial_circuits_with(self.client.dial)

    def circuit_addrs(self) -> list[str]:
        return self.client.circuit_addrs()

    def status(self) -> dict[str, Any]:
        return {
            **self.dialback.status(),
            "relay_hop": {
                "serving": self.hop.hop_on,
                "reservations": self.hop.reservation_count(),
                **vars(self.hop.counters),
            },
            "relay_client": self.client.status(),
            "relayed_peers": sorted(self.host.relayed_peers()),
            "hole_punching": self._dcutr.status() if self._dcutr is not None else {"running": False},
        }

    async def run(self) -> None:
        async with open_dcutr(self.host.libp2p_host, self._observed_ips, self.host.listen_ports) as dcutr:
            self._dcutr = dcutr
            try:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self.dialback.run, self._on_reachability)
                    nursery.start_soon(self._keep_reservations)
            finally:
                self._dcutr = None

    def _observed_ips(self) -> list[str]:
        return sorted({answer.observed for answer in self.dialback.answers.values()})

    def _on_reachability(self, verdict: str) -> None:
        self.hop.set_hop(hop_wanted(self.config.relay_hop, verdict))
        if verdict != PRIVATE:
            self.client.drop_all()
        self._wake.set()

    async def _keep_reservations(self) -> None:
        """While private: reserve, renew, replace lost relays."""
        while True:
            if self.dialback.verdict == PRIVATE:
                await self.client.refresh()
            with trio.move_on_after(CHECK_INTERVAL_S):
                await self._wake.wait()
            self._wake = trio.Event()

    def _relay_candidates(self) -> list[Candidate]:
        """Members' nodes from the address book, then bootstrap peers (not LAN neighbours: they
        sit behind the same NAT), those we are connected to directly first."""
        connected = set(self.host.connected_peers()) - self.host.relayed_peers()
        found = [c for c in self.sources.candidates() if c.rank != LAN]
        return sorted(found, key=lambda c: (c.peer_id not in connected, c.rank))

    def _is_member_peer_bytes(self, peer_id: bytes) -> bool:
        return self.sources.service.member_of_peer(peer_id) is not None
