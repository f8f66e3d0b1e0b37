"""The whole API: every route module's routes in one FastAPI app, behind the guard.

The runner calls ``build_api`` once every part of the node exists, so no route ever finds a part
missing. The message routes get the private rooms only as a ``RoomSeal`` (seal, open), the rooms
routes get them whole; neither module imports the other. The OpenAPI document is generated from
the routes' own declarations and served at ``/openapi.json`` to anyone (it says what the API
offers, nothing about the node, and a client reads it before it knows where the token is).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from governance.client import CommunityClient
from node.api import problems
from node.api.blobs import Blobs
from node.api.connections import Connections
from node.api.digest import Digest
from node.api.governance import Governance
from node.api.guard import Guard
from node.api.guests import Guests
from node.api.messages import Messages
from node.api.naming import Names
from node.api.notices import Notifications
from node.api.people import People
from node.api.problems import Json
from node.api.publish import Publisher
from node.api.ranking import Ranking
from node.api.rooms import Rooms
from node.api.routing import Route
from node.api.sealed import SealedRooms
from node.api.search import Search
from node.api.session import Sessions
from node.api.status import Status
from node.api.stream import Stream
from node.api.web import Web
from node.core.types import EraseBody, Kind, PostBody
from node.daemon.service import NodeService
from node.rooms.private import PrivateRooms

TITLE = "kiez node API"
VERSION = "1"
DESCRIPTION = (
    "The local API of one member's kiez node, on 127.0.0.1 only. Every route but the web app's "
    "files, its login and this document takes the token in `$KIEZ_HOME/api_token` as "
    "`Authorization: Bearer <token>`, or the web app's session cookie. Refusals are "
    '`{"error": "one sentence"}` with the status saying what kind.'
)


@dataclass(frozen=True)
class Api:
    """The ASGI app to serve (the guard around the framework's app) and what it counts."""

    app: Guard
    framework: FastAPI
    connections: Connections
    sessions: Sessions

    def openapi(self) -> dict[str, Any]:
        document: dict[str, Any] = self.framework.openapi()
        return document


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
    chain: Callable[[], CommunityClient],
    keystore: Path,
) -> Api:
    """The API serving the node (what ``node.api.server.serve`` runs).

    ``broadcast`` gossips a stored envelope; ``follow``/``following`` are the rooms' gossip topics;
    ``status_extra`` and ``peers`` report what the service does not know (chain, p2p, sync);
    ``chain`` connects to the community's contract, ``keystore`` holds the member's account."""
    sealed = SealedRooms(service, rooms)
    publish = Publisher(service, sealed, broadcast)
    connections, sessions = Connections(), Sessions()
    names = Names(service)
    framework = framework_app()
    key = service.signer.public_key

    async def erase() -> dict[str, Any]:
        return await publish(Kind.ERASE, EraseBody(service.now_ms()), "")

    async def post(text: str) -> dict[str, Any]:
        return await publish(Kind.POST, PostBody(text), "")

    for part in (
        Status(service, status_extra, peers, connections, names),
        Messages(service, publish, sealed, names),
        Rooms(service, rooms, publish, broadcast, follow, following, names),
        People(service, names, publish),
        Guests(service, publish, names),
        Search(service, names),
        Ranking(service, names),
        Notifications(service, names, chain),
        Digest(service, names),
        Blobs(service),
        Web(sessions),
        Stream(service.changes),
        Governance(
            chain,
            keystore,
            lambda: service.view.owner_of(service.signer.public_key),
            erase,
            key,
            publish_post=post,
            post=service.store.feed.post,
            names=names,
        ),
    ):
        part.add_routes(framework.router)
    guard = Guard(framework, framework.router.routes, token, sessions, connections)
    return Api(guard, framework, connections, sessions)


def framework_app() -> FastAPI:
    """An empty app with the API's metadata, security scheme and answers."""
    framework = FastAPI(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        docs_url=None,  # the interactive pages load scripts from a CDN; /openapi.json is the document
        redoc_url=None,
        openapi_url="/openapi.json",
        default_response_class=Json,
    )
    framework.router.route_class = Route
    problems.install(framework)
    base = framework.openapi

    def openapi() -> dict[str, Any]:
        return _kiez_document(base())

    framework.openapi = openapi  # type: ignore[method-assign]
    return framework


ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string", "description": "what was wrong, in one sentence"}},
    "additionalProperties": False,
}


def _kiez_document(document: dict[str, Any]) -> dict[str, Any]:
    """The framework's document, saying what this API does differently: a bearer token, JSON
    objects as answers, and refusals as ``{"error"}`` with 400 (never the framework's 422)."""
    components = document.setdefault("components", {})
    components.setdefault("securitySchemes", {})["token"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "the contents of $KIEZ_HOME/api_token",
    }
    schemas = components.setdefault("schemas", {})
    for framework_only in ("HTTPValidationError", "ValidationError"):
        schemas.pop(framework_only, None)
    schemas["Error"] = ERROR_SCHEMA
    document["security"] = [{"token": []}]
    refused = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            for answer in responses.values():
                for media in answer.get("content", {}).values():
                    if media.get("schema") == {"type": "string"}:  # a Json answer: an object
                        media["schema"] = {"type": "object"}
            responses["400"] = {"description": "a field or the body refused (the error names it)", **refused}
            if operation.get("security") != []:
                responses["401"] = {"description": "no token or session", **refused}
    return document
