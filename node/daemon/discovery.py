"""Where the connection keeper dials, in order of preference: the address book (members' nodes,
from their signed records), the configured bootstrap peers, and nodes seen on the LAN by mDNS
(on probation until their own record proves them a member's node).

Kept apart from the keeper (``node.p2p.keeper``), which knows nothing of records or members: it is
handed ``candidates`` and a ``vouch`` callable, and this module builds both from the service.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from node.core.peers import peer_id_bytes, peer_id_text
from node.daemon.service import NodeService
from node.p2p.addresses import dialable
from node.p2p.host import parse_peer_multiaddr
from node.p2p.keeper import Candidate

BOOK, BOOTSTRAP, LAN = 0, 1, 2


@dataclass
class DialSources:
    service: NodeService
    bootstrap: tuple[str, ...] = ()
    lan: Callable[[], list[tuple[str, tuple[str, ...]]]] | None = None

    def is_member_peer(self, peer_id: str) -> bool:
        """Whether ``peer_id`` (base58) is a current member's node by a live record."""
        try:
            return self.service.member_of_peer(peer_id_bytes(peer_id)) is not None
        except ValueError:
            return False

    def candidates(self) -> list[Candidate]:
        out = [self._from_record(r.peer_id, r.addrs) for r in self.service.address_book()]
        by_peer: dict[str, list[str]] = defaultdict(list)
        for addr in self.bootstrap:
            peer_id, _ = parse_peer_multiaddr(addr)
            by_peer[peer_id].append(addr)
        out.extend(Candidate(p, tuple(a), BOOTSTRAP) for p, a in by_peer.items())
        if self.lan is not None:
            out.extend(Candidate(p, a, LAN, self.is_member_peer) for p, a in self.lan())
        return out

    @staticmethod
    def _from_record(peer_id: bytes, addrs: tuple[bytes, ...]) -> Candidate:
        text = peer_id_text(peer_id)
        return Candidate(text, tuple(a for a in (dialable(b, text) for b in addrs) if a is not None), BOOK)
