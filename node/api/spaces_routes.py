"""API routes for rooms, private rooms, events, polls and attachments.

``SpacesApi.handle`` answers the requests it knows and returns None for the others, so the main
``Api`` can try it first. Posting into an encrypted room goes through ``seal``: the API takes
plain text, and what leaves the node is a SEALED message only the room's participants open.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from node.api.http import HttpError, Request, Response
from node.api.params import parse_id, text
from node.core import limits
from node.core.rooms import RSVP_ANSWERS, Room
from node.core.types import (
    AnswerBody,
    Body,
    EventBody,
    Kind,
    LeaveBody,
    MessageId,
    PollBody,
    PostBody,
    ReactionBody,
    RoomBody,
    RsvpBody,
    Visibility,
)
from node.daemon.service import NodeService
from node.errors import PublishError
from node.rooms.private import SEALABLE, PrivateRooms
from node.store import spaces

#: How long an upload waits for a post to name it before it may be dropped.
UPLOAD_KEPT_MS = 3_600_000

Publisher = Callable[[Kind, Body, str], Awaitable[dict[str, Any]]]


@dataclass
class SpacesApi:
    service: NodeService
    rooms: PrivateRooms
    #: Publishes a message (signed, validated, stored, gossiped); returns the API's answer.
    publish: Publisher
    #: Gossips a message the keyring signed and stored itself (room keys).
    broadcast: Callable[[bytes], Awaitable[None]]
    #: Starts or stops following a room's gossip topic.
    follow: Callable[[str, bool], Awaitable[None]]
    following: Callable[[], set[str]]

    async def handle(self, request: Request, data: dict[str, Any] | None) -> Response | None:
        path = request.path
        if path == "/v1/rooms" or path.startswith("/v1/rooms/"):
            return await self._rooms(request, data)
        if path == "/v1/events" or path.startswith("/v1/events/"):
            return await self._events(request, data)
        if path == "/v1/polls" or path.startswith("/v1/polls/"):
            return await self._polls(request, data)
        if path == "/v1/blobs" or path.startswith("/v1/blobs/"):
            return self._blobs(request)
        return None

    async def _rooms(self, request: Request, data: dict[str, Any] | None) -> Response:
        if request.path == "/v1/rooms":
            if request.method == "GET":
                return Response(200, {"rooms": [self._room_json(r) for r in self.service.store.rooms()]})
            return await self._create_room(_need(data))
        room_id, _, action = request.path.removeprefix("/v1/rooms/").partition("/")
        if request.method != "POST":
            raise HttpError(405, "rooms take POST /v1/rooms/ID/join, /leave or /invite")
        return await self._room_action(self._room(room_id), action, data or {})

    async def _events(self, request: Request, data: dict[str, Any] | None) -> Response:
        if request.path == "/v1/events":
            if request.method == "GET":
                events = self.service.store.events(request.query.get("room"))
                return Response(200, {"events": [_event_json(e) for e in events]})
            return await self._create_event(_need(data))
        if not (request.path.endswith("/rsvp") and request.method == "POST"):
            raise HttpError(404, "events take POST /v1/events/ID/rsvp")
        event = parse_id(request.path.removeprefix("/v1/events/").removesuffix("/rsvp"), "event id")
        answer = {v: k for k, v in RSVP_ANSWERS.items()}.get(str(_need(data).get("answer", "")))
        if answer is None:
            raise HttpError(400, "answer must be yes, no or maybe")
        return Response(201, await self.publish(Kind.RSVP, RsvpBody(event, answer), self._room_of(event)))

    async def _polls(self, request: Request, data: dict[str, Any] | None) -> Response:
        if request.path == "/v1/polls":
            if request.method == "GET":
                polls = self.service.store.polls(request.query.get("room"))
                return Response(200, {"polls": [_poll_json(p) for p in polls]})
            return await self._create_poll(_need(data))
        return await self._poll(request.path.removeprefix("/v1/polls/"), request.method, data)

    def _blobs(self, request: Request) -> Response:
        if request.path == "/v1/blobs" and request.method == "POST":
            return self._upload(request)
        if request.method != "GET":
            raise HttpError(405, "attachments take POST /v1/blobs and GET /v1/blobs/SHA256")
        held = self.service.store.blob(parse_id(request.path.removeprefix("/v1/blobs/"), "blob hash"))
        if held is None:
            raise HttpError(404, "this node does not hold that attachment (yet)")
        return Response(200, held[1], {"content-type": held[0]}, raw=True)

    # ------------------------------------------------------------------ rooms

    def _room(self, room_id: str) -> Room:
        room = self.service.store.room(room_id)
        if room is None:
            raise HttpError(404, f"no room {room_id} on this node")
        return room

    def _room_of(self, message_id: bytes) -> str:
        author_room = self.service.store.room_of(message_id)
        if author_room is None:
            raise HttpError(404, f"no message {message_id.hex()} on this node")
        return author_room

    def _room_json(self, room: Room) -> dict[str, Any]:
        readable = not room.encrypted or self.rooms.can_read(room)
        return {
            "id": room.id,
            "name": room.body.name,
            "topic": room.body.topic,
            "visibility": room.body.visibility.label,
            "creator": room.creator,
            "creator_only": room.body.creator_only,
            "slow_mode_s": room.body.slow_mode_s,
            "following": room.id in self.following(),
            "readable": readable,
        }

    async def _create_room(self, data: dict[str, Any]) -> Response:
        visibility = {v.label: v for v in Visibility}.get(str(data.get("visibility", "open")))
        if visibility is None:
            raise HttpError(400, "visibility must be open, members or private")
        slow = data.get("slow_mode_s", 0)
        if not isinstance(slow, int) or not 0 <= slow <= limits.MAX_SLOW_MODE_S:
            raise HttpError(400, f"slow_mode_s must be 0..{limits.MAX_SLOW_MODE_S}")
        topic = str(data.get("topic", ""))
        body = RoomBody(text(data, "name"), topic, visibility, bool(data.get("creator_only")), slow)
        answer = await self.publish(Kind.ROOM, body, "")
        room_id = answer["id"]
        await self.follow(room_id, True)
        if visibility.encrypted:
            room = self._room(room_id)
            readers = {self.rooms.member} if visibility is Visibility.PRIVATE else self.rooms.desired(room)
            try:
                key = self.rooms.issue_key(room, {m for m in readers or set() if m})
            except PublishError as exc:
                raise HttpError(422, str(exc)) from None
            await self.broadcast(key.envelope)
        return Response(201, {**answer, "room": room_id})

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
            return Kind.SEALED, self.rooms.seal(room, kind, body)
        except PublishError as exc:
            raise HttpError(422, str(exc)) from None

    async def _room_action(self, room: Room, action: str, data: dict[str, Any]) -> Response:
        if action == "join":
            await self.follow(room.id, True)
            return Response(200, {"room": room.id, "following": True})
        if action == "leave":
            if room.encrypted and self.rooms.can_read(room):
                await self.publish(Kind.LEAVE, LeaveBody(), room.id)
            await self.follow(room.id, False)
            return Response(200, {"room": room.id, "following": False})
        if action == "invite":
            if not room.encrypted:
                raise HttpError(400, "open rooms need no invitation: anyone may join")
            try:
                key = self.rooms.invite(room, text(data, "member"))
            except PublishError as exc:
                raise HttpError(422, str(exc)) from None
            await self.broadcast(key.envelope)
            return Response(201, {"room": room.id, "key": key.id.hex()})
        raise HttpError(404, f"rooms have no action {action!r} (join, leave, invite)")

    # ------------------------------------------------------------------ events and polls

    async def _create_event(self, data: dict[str, Any]) -> Response:
        starts, ends = _ms(data, "starts_ms"), _ms(data, "ends_ms")
        if ends < starts:
            raise HttpError(400, "an event ends after it starts")
        body = EventBody(text(data, "title"), starts, ends, str(data.get("place", "")))
        return Response(201, await self.publish(Kind.EVENT, body, str(data.get("room", ""))))

    async def _create_poll(self, data: dict[str, Any]) -> Response:
        options = data.get("options")
        if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
            raise HttpError(400, "options must be a list of strings")
        body = PollBody(text(data, "question"), tuple(options), _ms(data, "closes_ms"))
        return Response(201, await self.publish(Kind.POLL, body, str(data.get("room", ""))))

    async def _poll(self, rest: str, method: str, data: dict[str, Any] | None) -> Response:
        ident, _, action = rest.partition("/")
        poll_id = parse_id(ident, "poll id")
        if method == "GET" and not action:
            view = self.service.store.poll_view(poll_id)
            if view is None:
                raise HttpError(404, f"no poll {ident} on this node")
            return Response(200, _poll_json(view))
        if method == "POST" and action == "answer":
            option = _need(data).get("option")
            if not isinstance(option, int):
                raise HttpError(400, "option must be the option's number (0, 1, …)")
            return Response(201, await self.publish(Kind.ANSWER, AnswerBody(poll_id, option), self._room_of(poll_id)))
        raise HttpError(404, f"polls have no action {action!r} (GET /v1/polls/ID, POST …/answer)")

    # ------------------------------------------------------------------ attachments

    def _upload(self, request: Request) -> Response:
        mime = request.headers.get("content-type", "").split(";")[0].strip()
        if mime not in limits.ATTACHMENT_TYPES:
            raise HttpError(415, f"attachments are {', '.join(sorted(limits.ATTACHMENT_TYPES))}, not {mime!r}")
        policy = self.service.view.media_policy_at(self.service.now_ms())
        if not 0 < len(request.body) <= policy.max_attachment_bytes:
            raise HttpError(
                413, f"the community allows attachments of at most {policy.max_attachment_bytes // 1024} KiB"
            )
        sha256 = hashlib.sha256(request.body).digest()
        self.service.store.put_blob(sha256, mime, request.body, self.service.now_ms() + UPLOAD_KEPT_MS)
        return Response(201, {"sha256": sha256.hex(), "size": len(request.body), "mime": mime})

    # ------------------------------------------------------------------ reading sealed rooms

    def sealed_feed(self, room: Room, limit: int) -> list[dict[str, Any]]:
        """A private room's posts (not replies) as this node can read them, newest first."""
        return [p for p in self._opened_posts(room, limit * 4) if p["parent"] is None][:limit]

    def sealed_thread(self, post_id: MessageId) -> dict[str, Any] | None:
        """A sealed post with its replies, if this node can read it."""
        room_id = self.service.store.room_of(post_id)
        room = self.service.store.room(room_id) if room_id else None
        if room is None or not room.encrypted:
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
        messages = self.service.store.messages_in_room(room.id, Kind.SEALED, limit)
        posts: list[dict[str, Any]] = []
        latest: dict[tuple[bytes, str, str], tuple[int, bytes, bool]] = {}
        for message in messages:
            opened = self.rooms.open(message)
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
                posts.append(
                    {
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
                )
        by_id = {p["id"]: p for p in posts}
        for post in posts:
            if post["parent"] in by_id:
                by_id[post["parent"]]["replies"] += 1
        for (target, _, reaction), (_, _, active) in latest.items():
            reacted = by_id.get(target.hex())
            if reacted is not None and active:
                reacted["reactions"][reaction] = reacted["reactions"].get(reaction, 0) + 1
        return posts


def _need(data: dict[str, Any] | None) -> dict[str, Any]:
    if data is None:
        raise HttpError(400, "the request body must be a JSON object")
    return data


def _ms(data: dict[str, Any], name: str) -> int:
    value = data.get(name)
    if not isinstance(value, int) or value < 0:
        raise HttpError(400, f"{name} must be a time in milliseconds since 1970")
    return value


def _event_json(event: spaces.EventView) -> dict[str, Any]:
    counts = {label: sum(1 for a in event.answers.values() if a == value) for value, label in RSVP_ANSWERS.items()}
    return {
        "id": event.id.hex(),
        "author": event.author,
        "room": event.room,
        "title": event.body.title,
        "starts_ms": event.body.starts_ms,
        "ends_ms": event.body.ends_ms,
        "place": event.body.place,
        "answers": {member: RSVP_ANSWERS[a] for member, a in event.answers.items()},
        "counts": counts,
    }


def _poll_json(poll: spaces.PollView) -> dict[str, Any]:
    return {
        "id": poll.id.hex(),
        "author": poll.author,
        "room": poll.room,
        "question": poll.body.question,
        "options": list(poll.body.options),
        "closes_ms": poll.body.closes_ms,
        "tally": poll.tally,
    }
