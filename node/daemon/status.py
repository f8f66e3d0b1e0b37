"""What ``GET /v1/status`` adds to the service's counters: the parts the service does not know
about (the libp2p host and gossip, the peer guard, rooms, attachments, sync, the chain watcher).

Read from the running parts each time it is asked, so it never goes stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from node.blobs.service import BlobService
from node.chain import ChainWatcher
from node.config import NodeConfig
from node.daemon.connectivity import Connectivity
from node.daemon.records import RecordPublisher
from node.daemon.service import NodeService
from node.p2p.gossip import Gossip
from node.p2p.host import P2PHost
from node.p2p.keeper import ConnectionKeeper
from node.rooms.private import PrivateRooms
from node.rooms.topics import RoomTopics
from node.sponsor import SponsorService
from node.sync.service import SyncService


@dataclass(frozen=True)
class Parts:
    """The running parts of one node process, as the runner assembled them."""

    config: NodeConfig
    service: NodeService
    host: P2PHost
    gossip: Gossip
    watcher: ChainWatcher
    sync: SyncService
    blobs: BlobService
    rooms: PrivateRooms
    topics: RoomTopics
    keeper: ConnectionKeeper | None = None
    records: RecordPublisher | None = None
    mdns: bool = False  # whether mDNS discovery is running
    sponsor: SponsorService | None = None
    connectivity: Connectivity | None = None


def node_status(parts: Parts) -> dict[str, Any]:
    """The status of the parts around the service, as JSON-ready values."""
    return {
        "peer_id": parts.host.peer_id,
        "addrs": parts.host.addrs,
        "peers": len(parts.host.connected_peers()),
        "mesh_peers": len(parts.gossip.mesh_peers(parts.config.topic)),
        "guard": _guard(parts),
        "rooms": _rooms(parts),
        "blobs": {
            "fetched": parts.blobs.fetched,
            "served": parts.blobs.served,
            "refused_wrong_type": len(parts.blobs.refused),
        },
        "sync": parts.sync.status(),
        "chain": _chain(parts),
        "discovery": _discovery(parts),
        "sponsor": parts.sponsor.status() if parts.sponsor else {"enabled": False},
        "connectivity": parts.connectivity.status() if parts.connectivity else None,
    }


def _discovery(parts: Parts) -> dict[str, Any]:
    return {
        "address_book": len(parts.service.address_book()),
        "records_published": parts.records.published if parts.records else 0,
        "keeper": parts.keeper.status() if parts.keeper else None,
        "mdns": parts.mdns,
    }


def _guard(parts: Parts) -> dict[str, Any]:
    unknown = parts.service.unknown_keys
    return {
        **parts.gossip.defence_status(),
        "unknown_keys_pending": len(unknown),
        "unknown_keys_dropped": unknown.dropped,
    }


def _rooms(parts: Parts) -> dict[str, Any]:
    return {
        "known": len(parts.service.store.rooms.all()),
        "following": sorted(parts.topics.following()),
        "x25519_key": parts.rooms.public.hex(),
    }


def _chain(parts: Parts) -> dict[str, Any]:
    chain = parts.watcher.status
    return {
        "rpc_url": parts.config.rpc_url,
        "healthy": chain.healthy,
        "head": chain.head,
        "cursor": chain.cursor,
        "lag_blocks": chain.lag,
        "seconds_since_ok": chain.seconds_since_ok(),
        "last_error": chain.last_error,
        "events_applied": chain.events_applied,
        "reorgs": chain.reorgs,
        "view_complete_until_ms": parts.service.view.chain_time_ms,
    }
