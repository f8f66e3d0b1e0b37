"""What the node says about itself: its status and its peers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter

from node.api.connections import Connections
from node.api.naming import Names
from node.api.problems import Json
from node.core import limits
from node.core.peers import peer_id_text
from node.daemon.service import NodeService
from node.p2p.addresses import dialable


@dataclass
class Status:
    service: NodeService
    #: Status of the parts the service does not know about (chain watcher, p2p, rooms, sync).
    status_extra: Callable[[], dict[str, Any]]
    peers: Callable[[], list[str]]
    #: The API server's own connections: how many, what they buffer, what was refused unread.
    connections: Connections
    names: Names

    def add_routes(self, api: APIRouter) -> None:
        api.add_api_route("/v1/status", self.status, methods=["GET"])
        api.add_api_route("/v1/peers", self.peer_list, methods=["GET"])
        api.add_api_route("/v1/peers/known", self.known_peers, methods=["GET"])

    async def status(self) -> Json:
        """The node's community, keys, store, counters, chain, peers, sync and API connections."""
        service = self.service
        key = service.signer.public_key
        return Json(
            self.names.label(
                {
                    "name": service.name,
                    "community": service.community.address_hex,
                    "chain_id": service.community.chain_id,
                    "app_key": key.hex(),
                    "member": service.view.owner_of(key),
                    "app_key_active": key in service.view.keys and service.view.keys[key].revoked_ms is None,
                    "store": service.store.messages.counts(),
                    "messages": service.counters.as_dict(),
                    "api": self.connections.as_dict(),
                    "media_policy": _media_policy(service),
                    **self.status_extra(),
                }
            ),
        )

    async def peer_list(self) -> Json:
        """The peers this node is connected to."""
        return Json({"peers": self.peers()})

    async def known_peers(self) -> Json:
        """The address book: members' nodes with their signed records (hex envelopes, which an
        invite embeds as they are: the newcomer's node validates them like any message)."""
        connected = set(self.peers())
        records = []
        for record in self.service.address_book():
            peer_id = peer_id_text(record.peer_id)
            records.append(
                {
                    "member": record.member,
                    "app_key": record.app_key.hex(),
                    "peer_id": peer_id,
                    "addrs": [a for a in (dialable(b, peer_id) for b in record.addrs) if a is not None],
                    "timestamp_ms": record.timestamp_ms,
                    "expires_ms": record.expires_ms,
                    "connected": peer_id in connected,
                    "envelope": record.envelope.hex(),
                }
            )
        return Json({"records": records})


def _media_policy(service: NodeService) -> dict[str, Any]:
    """The caps a post signed now must meet (the web app explains them before an upload)."""
    caps = service.view.attachment_caps_at(service.now_ms())
    types = sorted(limits.ATTACHMENT_TYPES)
    return {"max_attachments": caps.max_attachments, "max_attachment_bytes": caps.max_attachment_bytes, "types": types}
