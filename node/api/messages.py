"""The message routes: the feed, threads, posting, reacting, deleting, erasing and exporting.

They take and show plain text in every room; for an encrypted room the sealing and opening come
from ``SealedRooms`` (node/api/sealed.py), so these routes know nothing of room keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from node.api.http import HttpError, Response
from node.api.params import Cursor, Fields, Flag, Hash, Integer, Items, Member, RoomRef, Text, parse_id
from node.api.publish import Publisher
from node.api.router import Call, Route, Takes
from node.api.sealed import SealedRooms
from node.core import limits
from node.core.types import Attachment, Body, DeleteBody, EraseBody, Kind, MessageId, PostBody, ReactionBody
from node.daemon.service import NodeService
from node.store import FeedItem

MAX_PAGE = 200

FEED_QUERY = Fields(
    RoomRef("room", default=""),
    Integer("limit", default=50, minimum=1, maximum=MAX_PAGE),
    Cursor("before"),
)
POST_FIELDS = Fields(
    Text("text", required=True, max_bytes=limits.MAX_TEXT_BYTES),
    Hash("parent", nullable=True),
    RoomRef("room", default=""),
    Items("attachments", default=(), item=Hash("attachment"), max_items=limits.MAX_ATTACHMENTS),
)
REACTION_FIELDS = Fields(
    Hash("target", required=True),
    Text("reaction", required=True, max_bytes=limits.MAX_REACTION_BYTES),
    Flag("active", default=True),
    RoomRef("room", default=""),
)
DELETE_FIELDS = Fields(Hash("target", required=True), RoomRef("room", default=""))
EXPORT_QUERY = Fields(Member("member"))


@dataclass
class Messages:
    service: NodeService
    publish: Publisher
    sealed: SealedRooms

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/v1/feed", self.feed, query=FEED_QUERY),
            Route("GET", "/v1/posts/{id}", self.thread),
            Route("POST", "/v1/posts", self.post, Takes.JSON, fields=POST_FIELDS),
            Route("POST", "/v1/reactions", self.react, Takes.JSON, fields=REACTION_FIELDS),
            Route("POST", "/v1/deletes", self.delete, Takes.JSON, fields=DELETE_FIELDS),
            Route("POST", "/v1/erase", self.erase),
            Route("GET", "/v1/export", self.export, query=EXPORT_QUERY),
        ]

    async def feed(self, call: Call) -> Response:
        """One page of a room's posts, newest first; ``next`` is the cursor of the page after."""
        room, limit, before = call.query["room"], call.query["limit"], call.query["before"]
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
        body: Body = PostBody(data["text"], data["parent"], self._attachments(data["attachments"]))
        return Response(201, await self.publish(Kind.POST, body, data["room"]))

    async def react(self, call: Call) -> Response:
        data = call.data
        body = ReactionBody(data["target"], data["reaction"], data["active"])
        return Response(201, await self.publish(Kind.REACTION, body, data["room"]))

    async def delete(self, call: Call) -> Response:
        body = DeleteBody(call.data["target"])
        return Response(201, await self.publish(Kind.DELETE, body, call.data["room"]))

    async def erase(self, call: Call) -> Response:
        return Response(201, await self.publish(Kind.ERASE, EraseBody(self.service.now_ms()), ""))

    async def export(self, call: Call) -> Response:
        """Everything the node holds by one member (this node's, unless ``?member=`` names one)."""
        service, view = self.service, self.service.view
        who = call.query["member"] or view.owner_of(service.signer.public_key)
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

    def _attachments(self, hashes: tuple[MessageId, ...]) -> tuple[Attachment, ...]:
        """The attachments a post names: hashes of blobs uploaded before (POST /v1/blobs)."""
        policy = self.service.view.attachment_caps_at(self.service.now_ms())
        if len(hashes) > policy.max_attachments:
            raise HttpError(400, f"the community allows at most {policy.max_attachments} attachments per post")
        attachments = []
        for sha256 in hashes:
            held = self.service.store.blobs.get(sha256)
            if held is None:
                raise HttpError(400, f"attachment {sha256.hex()} is not on this node: upload it first (POST /v1/blobs)")
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
