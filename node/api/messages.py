"""The message routes: the feed, threads, posting, reacting, deleting, erasing and exporting.

They take and show plain text in every room; for an encrypted room the sealing and opening come
from ``SealedRooms`` (node/api/sealed.py), so these routes know nothing of room keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from node.api.http import HttpError, Response
from node.api.params import parse_id, text
from node.api.publish import Publisher
from node.api.router import Call, Route, Takes
from node.api.sealed import SealedRooms
from node.core import limits
from node.core.types import Attachment, Body, DeleteBody, EraseBody, Kind, MessageId, PostBody, ReactionBody
from node.daemon.service import NodeService
from node.store import FeedItem

MAX_PAGE = 200


@dataclass
class Messages:
    service: NodeService
    publish: Publisher
    sealed: SealedRooms

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/v1/feed", self.feed),
            Route("GET", "/v1/posts/{id}", self.thread),
            Route("POST", "/v1/posts", self.post, Takes.JSON),
            Route("POST", "/v1/reactions", self.react, Takes.JSON),
            Route("POST", "/v1/deletes", self.delete, Takes.JSON),
            Route("POST", "/v1/erase", self.erase),
            Route("GET", "/v1/export", self.export),
        ]

    async def feed(self, call: Call) -> Response:
        """One page of a room's posts, newest first; ``next`` is the cursor of the page after."""
        query = call.request.query
        room = query.get("room", "")
        try:
            limit = int(query.get("limit", "50"))
        except ValueError:
            raise HttpError(400, "limit must be a number") from None
        if not 1 <= limit <= MAX_PAGE:
            raise HttpError(400, f"limit must be 1..{MAX_PAGE}")
        before = None
        if "before" in query:
            stamp, _, ident = query["before"].partition(":")
            try:
                before = (int(stamp), bytes.fromhex(ident))
            except ValueError:
                raise HttpError(400, "before must be <timestamp_ms>:<id hex> from a previous page's next") from None
        sealed_room = self.sealed.encrypted_room(room)
        if sealed_room is not None:
            # sealed posts are opened here; a private room's feed is one page of its newest posts
            return Response(200, {"items": self.sealed.feed(sealed_room, limit), "next": None, "sealed": True})
        items = self.service.store.feed.page(room, limit, before)
        following = f"{items[-1].timestamp_ms}:{items[-1].id.hex()}" if len(items) == limit else None
        return Response(200, {"items": [item_json(i) for i in items], "next": following})

    async def thread(self, call: Call) -> Response:
        ident = call.params["id"]
        message_id = parse_id(ident, "post id")
        item = self.service.store.feed.post(message_id)
        if item is None:
            sealed = self.sealed.thread(message_id)
            if sealed is not None:
                return Response(200, sealed)
            raise HttpError(404, f"no visible post {ident} on this node (unknown, hidden or deleted)")
        replies = [item_json(r) for r in self.service.store.feed.replies(message_id)]
        return Response(200, {"post": item_json(item), "replies": replies})

    async def post(self, call: Call) -> Response:
        data = call.data
        body: Body = PostBody(text(data, "text"), _optional_id(data, "parent"), self._attachments(data))
        return Response(201, await self.publish(Kind.POST, body, _room(data)))

    async def react(self, call: Call) -> Response:
        data = call.data
        active = data.get("active", True)
        if not isinstance(active, bool):
            raise HttpError(400, "active must be true or false")
        body = ReactionBody(_id(data, "target"), text(data, "reaction"), active)
        return Response(201, await self.publish(Kind.REACTION, body, _room(data)))

    async def delete(self, call: Call) -> Response:
        body = DeleteBody(_id(call.data, "target"))
        return Response(201, await self.publish(Kind.DELETE, body, _room(call.data)))

    async def erase(self, call: Call) -> Response:
        return Response(201, await self.publish(Kind.ERASE, EraseBody(self.service.now_ms()), ""))

    async def export(self, call: Call) -> Response:
        """Everything the node holds by one member (this node's, unless ``?member=`` names one)."""
        service, view = self.service, self.service.view
        who = call.request.query.get("member") or view.owner_of(service.signer.public_key)
        if who is None:
            raise HttpError(409, "this node's app key is not registered; name the member: ?member=0x…")
        record = view.members.get(who)
        keys = [k for k in view.keys.values() if k.owner == who]
        return Response(
            200,
            {
                "format": "kiez-export/1",
                "member": who,
                "community": service.community.address_hex,
                "chain_id": service.community.chain_id,
                "exported_at_ms": service.now_ms(),
                "membership": [{"from_ms": s, "until_ms": e} for s, e in (record.intervals if record else [])],
                "app_keys": [{"key": k.key.hex(), "added_ms": k.added_ms, "revoked_ms": k.revoked_ms} for k in keys],
                **service.store.messages.export(who),
            },
        )

    def _attachments(self, data: dict[str, Any]) -> tuple[Attachment, ...]:
        """The attachments a post names: hashes of blobs uploaded before (POST /v1/blobs)."""
        names = data.get("attachments", [])
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise HttpError(400, "attachments must be a list of SHA-256 hex strings from POST /v1/blobs")
        policy = self.service.view.attachment_caps_at(self.service.now_ms())
        if len(names) > policy.max_attachments:
            raise HttpError(400, f"the community allows at most {policy.max_attachments} attachments per post")
        attachments = []
        for name in names:
            sha256 = parse_id(name, "attachment hash")
            held = self.service.store.blobs.get(sha256)
            if held is None:
                raise HttpError(400, f"attachment {name} is not on this node: upload it first (POST /v1/blobs)")
            attachments.append(Attachment(sha256, len(held[1]), held[0]))
        return tuple(attachments)


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
