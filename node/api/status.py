"""What the node says about itself: its status, its peers, and the API's own description.

``/openapi.json`` is the one route without a token: it says what the API offers, nothing about
the node, and a client reads it before it knows where the token is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from node.api.connections import Connections
from node.api.http import Response
from node.api.router import Call, Route
from node.core import limits
from node.core.jsontext import parse
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

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/v1/status", self.status),
            Route("GET", "/v1/peers", self.peer_list),
            Route("GET", "/v1/peers/known", self.known_peers),
            Route("GET", "/openapi.json", openapi, token=False),
        ]

    async def status(self, call: Call) -> Response:
        service = self.service
        key = service.signer.public_key
        return Response(
            200,
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
            },
        )

    async def peer_list(self, call: Call) -> Response:
        return Response(200, {"peers": self.peers()})

    async def known_peers(self, call: Call) -> Response:
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
        return Response(200, {"records": records})


def _media_policy(service: NodeService) -> dict[str, Any]:
    """The caps a post signed now must meet (the web app explains them before an upload)."""
    caps = service.view.attachment_caps_at(service.now_ms())
    types = sorted(limits.ATTACHMENT_TYPES)
    return {"max_attachments": caps.max_attachments, "max_attachment_bytes": caps.max_attachment_bytes, "types": types}


async def openapi(call: Call) -> Response:
    # anyone may ask, as often as they like: the answer is the file's bytes, read once
    return Response(200, _openapi_bytes(), {"content-type": "application/json; charset=utf-8"}, raw=True)


@cache
def _openapi_bytes() -> bytes:
    return resources.files("node.api").joinpath("openapi.json").read_bytes()


def openapi_document() -> dict[str, Any]:
    """The hand-kept OpenAPI document (node/api/openapi.json), parsed afresh for each caller."""
    document: dict[str, Any] = parse(_openapi_bytes())
    return document
