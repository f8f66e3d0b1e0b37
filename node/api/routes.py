"""The API's routes: what a member's CLI (or a web page later) can ask of their node.

Every route except ``/openapi.json`` needs ``Authorization: Bearer <token>`` with the token from
``$KIEZ_HOME/api_token``; the comparison is constant-time. Errors are JSON ``{"error": "..."}``
with a status that says whose fault it was (4xx: the request; 503: the node cannot do it now).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from node.api.http import HttpError, Request, Response
from node.api.params import json_object, parse_id, text
from node.api.spaces_routes import SpacesApi
from node.core import limits
from node.core.types import Attachment, Body, DeleteBody, EraseBody, Kind, MessageId, PostBody, ReactionBody
from node.daemon.service import NodeService
from node.errors import PublishError
from node.store.store import FeedItem

MAX_PAGE = 200
_SPACES_PATHS = ("/v1/rooms", "/v1/events", "/v1/polls", "/v1/blobs")


@dataclass
class Api:
    service: NodeService
    token: bytes
    #: Gossips an envelope the node just stored (the p2p layer's publish).
    broadcast: Callable[[bytes], Awaitable[None]]
    #: Status of the parts the service does not know about (chain watcher, p2p).
    status_extra: Callable[[], dict[str, Any]]
    peers: Callable[[], list[str]]
    #: Rooms, events, polls and attachments (set by the runner once its parts exist).
    spaces: SpacesApi | None = None

    async def handle(self, request: Request) -> Response:
        if request.path == "/openapi.json" and request.method == "GET":
            return Response(200, json.loads(resources.files("node.api").joinpath("openapi.json").read_text("utf-8")))
        self._authorise(request)
        answer = await self._spaces(request)
        if answer is not None:
            return answer
        route = (request.method, request.path)
        if route == ("GET", "/v1/status"):
            return Response(200, self._status())
        if route == ("GET", "/v1/peers"):
            return Response(200, {"peers": self.peers()})
        if route == ("GET", "/v1/feed"):
            return Response(200, self._feed(request))
        if request.method == "GET" and request.path.startswith("/v1/posts/"):
            return Response(200, self._post(request.path.removeprefix("/v1/posts/")))
        if route == ("POST", "/v1/posts"):
            data = json_object(request)
            body: Body = PostBody(text(data, "text"), _optional_id(data, "parent"), self._attachments(data))
            return await self._publish(Kind.POST, body, _room(data))
        if route == ("POST", "/v1/reactions"):
            return await self._react(json_object(request))
        if route == ("POST", "/v1/erase"):
            return await self._publish(Kind.ERASE, EraseBody(self.service.now_ms()), "")
        if route == ("GET", "/v1/export"):
            return Response(200, self._export(request.query.get("member")))
        if route == ("POST", "/v1/deletes"):
            data = json_object(request)
            return await self._publish(Kind.DELETE, DeleteBody(_id(data, "target")), _room(data))
        known = {"/v1/status", "/v1/peers", "/v1/feed", "/v1/posts", "/v1/reactions", "/v1/deletes", "/v1/erase"}
        if request.path in known:
            raise HttpError(405, f"{request.method} is not allowed on {request.path}")
        raise HttpError(404, f"no such endpoint: {request.path} (see /openapi.json)")

    async def _react(self, data: dict[str, Any]) -> Response:
        active = data.get("active", True)
        if not isinstance(active, bool):
            raise HttpError(400, "active must be true or false")
        body = ReactionBody(_id(data, "target"), text(data, "reaction"), active)
        return await self._publish(Kind.REACTION, body, _room(data))

    async def _spaces(self, request: Request) -> Response | None:
        if self.spaces is None or not request.path.startswith(_SPACES_PATHS):
            return None
        raw = request.path == "/v1/blobs" or not request.body
        return await self.spaces.handle(request, None if raw else json_object(request))

    def _authorise(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), self.token):
            raise HttpError(401, "missing or wrong API token (Authorization: Bearer <$KIEZ_HOME/api_token>)")

    async def _publish(self, kind: Kind, body: Body, room: str) -> Response:
        return Response(201, await self.publish_answer(kind, body, room))

    async def publish_answer(self, kind: Kind, body: Body, room: str) -> dict[str, Any]:
        """Signs, checks, stores and gossips a message; a post or reaction in an encrypted room
        is sealed first. Returns what the API answers about it."""
        if self.spaces is not None:
            kind, body = self.spaces.prepare(kind, body, room)
        try:
            message = self.service.publish(kind, body, room)
        except PublishError as exc:
            raise HttpError(422, str(exc)) from None
        await self.broadcast(message.envelope)
        return {"id": message.id.hex(), "kind": kind.label, "timestamp_ms": message.timestamp_ms}

    def _attachments(self, data: dict[str, Any]) -> tuple[Attachment, ...]:
        """The attachments a post names: hashes of blobs uploaded before (POST /v1/blobs)."""
        names = data.get("attachments", [])
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise HttpError(400, "attachments must be a list of SHA-256 hex strings from POST /v1/blobs")
        policy = self.service.view.media_policy_at(self.service.now_ms())
        if len(names) > policy.max_attachments:
            raise HttpError(400, f"the community allows at most {policy.max_attachments} attachments per post")
        attachments = []
        for name in names:
            sha256 = parse_id(name, "attachment hash")
            held = self.service.store.blob(sha256)
            if held is None:
                raise HttpError(400, f"attachment {name} is not on this node: upload it first (POST /v1/blobs)")
            attachments.append(Attachment(sha256, len(held[1]), held[0]))
        return tuple(attachments)

    def _export(self, member: str | None) -> dict[str, Any]:
        view = self.service.view
        who = member or view.owner_of(self.service.signer.public_key)
        if who is None:
            raise HttpError(409, "this node's app key is not registered; name the member: ?member=0x…")
        record = view.members.get(who)
        keys = [k for k in view.keys.values() if k.owner == who]
        return {
            "format": "kiez-export/1",
            "member": who,
            "community": self.service.community.address_hex,
            "chain_id": self.service.community.chain_id,
            "exported_at_ms": self.service.now_ms(),
            "membership": [{"from_ms": s, "until_ms": e} for s, e in (record.intervals if record else [])],
            "app_keys": [{"key": k.key.hex(), "added_ms": k.added_ms, "revoked_ms": k.revoked_ms} for k in keys],
            **self.service.store.export(who),
        }

    def _status(self) -> dict[str, Any]:
        service = self.service
        key = service.signer.public_key
        return {
            "name": service.name,
            "community": service.community.address_hex,
            "chain_id": service.community.chain_id,
            "app_key": key.hex(),
            "member": service.view.owner_of(key),
            "app_key_active": key in service.view.keys and service.view.keys[key].revoked_ms is None,
            "store": service.store.counts(),
            "messages": service.counters.as_dict(),
            **self.status_extra(),
        }

    def _feed(self, request: Request) -> dict[str, Any]:
        room = request.query.get("room", "")
        try:
            limit = int(request.query.get("limit", "50"))
        except ValueError:
            raise HttpError(400, "limit must be a number") from None
        if not 1 <= limit <= MAX_PAGE:
            raise HttpError(400, f"limit must be 1..{MAX_PAGE}")
        before = None
        if "before" in request.query:
            stamp, _, ident = request.query["before"].partition(":")
            try:
                before = (int(stamp), bytes.fromhex(ident))
            except ValueError:
                raise HttpError(400, "before must be <timestamp_ms>:<id hex> from a previous page's next") from None
        sealed_room = self.service.store.room(room) if room and self.spaces is not None else None
        if self.spaces is not None and sealed_room is not None and sealed_room.encrypted:
            # sealed posts are opened here; a private room's feed is one page of its newest posts
            return {"items": self.spaces.sealed_feed(sealed_room, limit), "next": None, "sealed": True}
        items = self.service.store.feed(room, limit, before)
        following = f"{items[-1].timestamp_ms}:{items[-1].id.hex()}" if len(items) == limit else None
        return {"items": [item_json(i) for i in items], "next": following}

    def _post(self, ident: str) -> dict[str, Any]:
        message_id = parse_id(ident, "post id")
        item = self.service.store.post(message_id)
        if item is None and self.spaces is not None:
            sealed = self.spaces.sealed_thread(message_id)
            if sealed is not None:
                return sealed
        if item is None:
            raise HttpError(404, f"no visible post {ident} on this node (unknown, hidden or deleted)")
        return {"post": item_json(item), "replies": [item_json(r) for r in self.service.store.replies(message_id)]}


def item_json(item: FeedItem) -> dict[str, Any]:
    return {
        "id": item.id.hex(),
        "author": item.author,
        "author_key": item.author_key.hex(),
        "timestamp_ms": item.timestamp_ms,
        "room": item.room,
        "text": item.text,
        "parent": item.parent.hex() if item.parent else None,
        "replies": item.replies,
        "reactions": item.reactions,
        "attachments": [
            {"sha256": h.hex(), "size": size, "mime": mime, "held": held} for h, size, mime, held in item.attachments
        ],
    }


def _room(data: dict[str, Any]) -> str:
    room = data.get("room", "")
    if not isinstance(room, str) or len(room.encode()) > limits.MAX_ROOM_BYTES:
        raise HttpError(400, f"room must be a string of at most {limits.MAX_ROOM_BYTES} bytes")
    return room


def _id(data: dict[str, Any], name: str) -> MessageId:
    return parse_id(data.get(name), name)


def _optional_id(data: dict[str, Any], name: str) -> MessageId | None:
    return None if data.get(name) is None else _id(data, name)
