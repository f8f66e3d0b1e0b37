"""The message routes: the feed, threads, posting, reacting, deleting, erasing and exporting.

They take and show plain text in every room; for an encrypted room the sealing and opening come
from ``SealedRooms`` (node/api/sealed.py), so these routes know nothing of room keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter
from fastapi import Query as InQuery

from node.api.fields import (
    Body,
    Cursor,
    Flag,
    Hash,
    Integer,
    Items,
    MemberAddress,
    NullableHash,
    Query,
    RoomRef,
    Text,
    cursor_position,
    parse_id,
)
from node.api.naming import Names
from node.api.posts import MAX_PAGE, item_json
from node.api.problems import HttpError, Json
from node.api.publish import Publisher
from node.api.sealed import SealedRooms
from node.core import limits
from node.core.errors import MentionProblem
from node.core.mentions import resolve
from node.core.types import Attachment, DeleteBody, EraseBody, Kind, MessageId, PostBody, ReactionBody
from node.daemon.service import NodeService


class FeedQuery(Query):
    room: RoomRef = ""
    limit: Annotated[int, Integer(1, MAX_PAGE, query=True)] = 50
    before: Cursor | None = None


class PostFields(Body):
    text: Annotated[str, Text(limits.MAX_TEXT_BYTES)]
    parent: NullableHash = None
    room: RoomRef = ""
    attachments: Annotated[tuple[Hash, ...], Items(0, limits.MAX_ATTACHMENTS)] = ()
    #: The members the post mentions; left out, they are read from ``@Name`` in the text.
    mentions: Annotated[tuple[MemberAddress, ...], Items(0, limits.MAX_MENTIONS)] | None = None


class ReactionFields(Body):
    target: Hash
    reaction: Annotated[str, Text(limits.MAX_REACTION_BYTES)]
    active: Flag = True
    room: RoomRef = ""


class DeleteFields(Body):
    target: Hash
    room: RoomRef = ""


class ExportQuery(Query):
    member: MemberAddress | None = None


@dataclass
class Messages:
    service: NodeService
    publish: Publisher
    sealed: SealedRooms
    names: Names

    def add_routes(self, api: APIRouter) -> None:
        api.add_api_route("/v1/feed", self.feed, methods=["GET"])
        api.add_api_route("/v1/posts/{id}", self.thread, methods=["GET"])
        api.add_api_route("/v1/posts", self.post, methods=["POST"], status_code=201)
        api.add_api_route("/v1/reactions", self.react, methods=["POST"], status_code=201)
        api.add_api_route("/v1/deletes", self.delete, methods=["POST"], status_code=201)
        api.add_api_route("/v1/erase", self.erase, methods=["POST"], status_code=201)
        api.add_api_route("/v1/export", self.export, methods=["GET"])

    async def feed(self, query: Annotated[FeedQuery, InQuery()]) -> Json:
        """One page of a room's posts, newest first; ``next`` is the cursor of the page after."""
        room, limit = query.room, query.limit
        before = None if query.before is None else cursor_position(query.before)
        sealed_room = self.sealed.encrypted_room(room)
        if sealed_room is not None:
            # sealed posts are opened here; a private room's feed is one page of its newest posts
            opened = self.sealed.feed(sealed_room, limit)
            return Json(self.names.label({"items": opened, "next": None, "sealed": True}))
        items = self.service.store.feed.page(room, limit, before)
        following = f"{items[-1].timestamp_ms}:{items[-1].id.hex()}" if len(items) == limit else None
        mine = self._mine([i.id for i in items])
        return Json(self.names.label({"items": [item_json(i, mine.get(i.id, [])) for i in items], "next": following}))

    async def thread(self, id: str) -> Json:
        """A post and its replies."""
        message_id = parse_id(id, "post id")
        item = self.service.store.feed.post(message_id)
        if item is None:
            sealed = self.sealed.thread(message_id)
            if sealed is not None:
                return Json(self.names.label(sealed))
            raise HttpError(404, f"no visible post {id} on this node (unknown, hidden or deleted)")
        answers = self.service.store.feed.replies(message_id)
        mine = self._mine([message_id, *(r.id for r in answers)])
        replies = [item_json(r, mine.get(r.id, [])) for r in answers]
        return Json(self.names.label({"post": item_json(item, mine.get(message_id, [])), "replies": replies}))

    def _mine(self, ids: list[MessageId]) -> dict[bytes, list[str]]:
        """This node's member's reactions on ``ids``."""
        me = self.service.view.owner_of(self.service.signer.public_key)
        return {} if me is None else self.service.store.feed.reacted(me, ids)

    async def post(self, body: PostFields) -> Json:
        """Posts (or replies, with ``parent``) in a room; attachments are uploaded first. Members
        named as ``@Name`` (or ``@0x…``) are mentioned, unless ``mentions`` lists them."""
        try:
            mentioned = body.mentions if body.mentions is not None else resolve(body.text, self.names.given())
        except MentionProblem as exc:
            raise HttpError(400, str(exc)) from None
        attachments = self._attachments(tuple(MessageId(h) for h in body.attachments))
        mentions = tuple(bytes.fromhex(m[2:]) for m in mentioned)
        post = PostBody(body.text, _id(body.parent), attachments, mentions)
        published = await self.publish(Kind.POST, post, body.room)
        answer = {**published, "mentions": [{"member": m} for m in mentioned]}
        return Json(self.names.label(answer), 201)

    async def react(self, body: ReactionFields) -> Json:
        """Reacts to a post (``active: false`` takes the reaction back)."""
        reaction = ReactionBody(MessageId(body.target), body.reaction, body.active)
        return Json(await self.publish(Kind.REACTION, reaction, body.room), 201)

    async def delete(self, body: DeleteFields) -> Json:
        """Deletes one of this member's posts."""
        return Json(await self.publish(Kind.DELETE, DeleteBody(MessageId(body.target)), body.room), 201)

    async def erase(self) -> Json:
        """Erases everything this member wrote, on every node that follows the request (forget-me)."""
        return Json(await self.publish(Kind.ERASE, EraseBody(self.service.now_ms()), ""), 201)

    async def export(self, query: Annotated[ExportQuery, InQuery()]) -> Json:
        """Everything the node holds by one member (this node's, unless ``?member=`` names one)."""
        service, view = self.service, self.service.view
        who = query.member or view.owner_of(service.signer.public_key)
        if who is None:
            raise HttpError(409, "this node's app key is not registered; name the member: ?member=0x…")
        record = view.members.get(who)
        keys = [k for k in view.keys.values() if k.owner == who]
        return Json(
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


def _id(value: bytes | None) -> MessageId | None:
    return None if value is None else MessageId(value)
