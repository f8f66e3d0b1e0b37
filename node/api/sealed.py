"""Posts and reactions in encrypted rooms, as the message routes need them.

The message routes take and show plain text in every room: in an encrypted room the node seals
what its member publishes and opens what the room holds. The keys are kept by
``node.rooms.private.PrivateRooms``; these routes need only its two operations, named by
``RoomSeal``, so they depend neither on the rooms routes nor on how keys are found.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from node.api.problems import HttpError
from node.core.encoding import SEALABLE
from node.core.rooms import Room
from node.core.types import Body, Kind, Message, MessageId, PostBody, ReactionBody, SealedBody
from node.daemon.service import NodeService
from node.errors import PublishError
from node.rooms.private import Opened


class RoomSeal(Protocol):
    """Sealing to and opening from an encrypted room's current key (``PrivateRooms`` is one)."""

    def seal(self, room: Room, kind: Kind, body: Body) -> SealedBody: ...

    def open(self, message: Message) -> Opened | None: ...


@dataclass
class SealedRooms:
    service: NodeService
    keys: RoomSeal

    def prepare(self, kind: Kind, body: Body, room_id: str) -> tuple[Kind, Body]:
        """What actually goes out for a post or reaction in ``room_id``: in an encrypted room, the
        message sealed to the room's readers (the API takes plain text either way)."""
        room = self.service.store.room(room_id) if room_id else None
        if room is None or not room.encrypted or kind not in SEALABLE:
            return kind, body
        if isinstance(body, PostBody) and body.attachments:
            raise HttpError(
                422,
                f"room {room.body.name!r} is encrypted and attachments are not: they would be readable by "
                "every node that fetches them; share them in an open room",
            )
        try:
            return Kind.SEALED, self.keys.seal(room, kind, body)
        except PublishError as exc:
            raise HttpError(422, str(exc)) from None

    def encrypted_room(self, room_id: str) -> Room | None:
        """The room ``room_id`` names if it is encrypted (its feed is opened, not read)."""
        room = self.service.store.room(room_id) if room_id else None
        return room if room is not None and room.encrypted else None

    def feed(self, room: Room, limit: int) -> list[dict[str, Any]]:
        """A private room's posts (not replies) as this node can read them, newest first."""
        return [p for p in self._opened_posts(room, limit * 4) if p["parent"] is None][:limit]

    def thread(self, post_id: MessageId) -> dict[str, Any] | None:
        """A sealed post with its replies, if this node can read it."""
        room_id = self.service.store.messages.room_of(post_id)
        room = self.encrypted_room(room_id) if room_id else None
        if room is None:
            return None
        posts = self._opened_posts(room, 1000)
        post = next((p for p in posts if p["id"] == post_id.hex()), None)
        if post is None:
            return None
        replies = sorted((p for p in posts if p["parent"] == post["id"]), key=lambda p: (p["timestamp_ms"], p["id"]))
        return {"post": post, "replies": replies}

    def _opened_posts(self, room: Room, limit: int) -> list[dict[str, Any]]:
        """The newest ``limit`` sealed messages of a room, opened: posts with their reply counts
        and reactions (a member's latest reaction of each kind wins, as in open rooms)."""
        messages = self.service.store.rooms.messages_in_room(room.id, Kind.SEALED, limit)
        posts: list[dict[str, Any]] = []
        latest: dict[tuple[bytes, str, str], tuple[int, bytes, bool]] = {}
        for message in messages:
            opened = self.keys.open(message)
            if opened is None:
                continue
            author = self.service.view.owner_of(message.author) or ""
            body = opened.body
            if isinstance(body, ReactionBody):
                slot = (body.target, author, body.reaction)
                stamp = (message.timestamp_ms, message.id, body.active)
                if slot not in latest or stamp[:2] > latest[slot][:2]:
                    latest[slot] = stamp
            elif isinstance(body, PostBody):
                posts.append(_post_json(message, author, room, body))
        by_id = {p["id"]: p for p in posts}
        for post in posts:
            if post["parent"] in by_id:
                by_id[post["parent"]]["replies"] += 1
        for (target, _, reaction), (_, _, active) in latest.items():
            reacted = by_id.get(target.hex())
            if reacted is not None and active:
                reacted["reactions"][reaction] = reacted["reactions"].get(reaction, 0) + 1
        return posts


def _post_json(message: Message, author: str, room: Room, body: PostBody) -> dict[str, Any]:
    """An opened post in the shape of the feed's items, marked ``sealed``."""
    return {
        "id": message.id.hex(),
        "author": author,
        "author_key": message.author.hex(),
        "timestamp_ms": message.timestamp_ms,
        "room": room.id,
        "text": body.text,
        "parent": body.parent.hex() if body.parent else None,
        "replies": 0,
        "reactions": {},
        "attachments": [],
        "sealed": True,
    }
