"""The whole API: every route module's routes in one table behind one router.

The runner calls ``build_api`` once every part of the node exists, so no route ever finds a part
missing. The message routes get the private rooms only as a ``RoomSeal`` (seal, open), the rooms
routes get them whole; neither module imports the other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from node.api.blobs import Blobs
from node.api.connections import Connections
from node.api.messages import Messages
from node.api.publish import Publisher
from node.api.rooms import Rooms
from node.api.router import Router
from node.api.sealed import SealedRooms
from node.api.session import Sessions
from node.api.status import Status
from node.api.web import Web
from node.daemon.service import NodeService
from node.rooms.private import PrivateRooms


def build_api(
    service: NodeService,
    token: bytes,
    *,
    rooms: PrivateRooms,
    broadcast: Callable[[bytes], Awaitable[None]],
    follow: Callable[[str, bool], Awaitable[None]],
    following: Callable[[], set[str]],
    status_extra: Callable[[], dict[str, Any]],
    peers: Callable[[], list[str]],
) -> Router:
    """The router serving the node's API (what ``node.api.http.serve`` runs).

    ``broadcast`` gossips a stored envelope; ``follow``/``following`` are the rooms' gossip topics;
    ``status_extra`` and ``peers`` report what the service does not know (chain, p2p, sync)."""
    sealed = SealedRooms(service, rooms)
    publish = Publisher(service, sealed, broadcast)
    connections, sessions = Connections(), Sessions()
    routes = [
        *Status(service, status_extra, peers, connections).routes(),
        *Messages(service, publish, sealed).routes(),
        *Rooms(service, rooms, publish, broadcast, follow, following).routes(),
        *Blobs(service).routes(),
        *Web(sessions).routes(),
    ]
    return Router(routes, token, connections, sessions)
