"""The rooms routes: rooms (open, members-only, private), and the events and polls held in them.

Creating an encrypted room issues its first key, inviting seals the current key to one more
member, and joining or leaving starts or stops following the room's gossip topic; the keys
themselves are ``PrivateRooms``' business. Posts in a room go through the message routes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from node.api.http import HttpError, Response
from node.api.params import Choice, Fields, Flag, Integer, Items, Member, RoomRef, Text, millis, parse_id
from node.api.publish import Publisher
from node.api.router import Call, Route, Takes
from node.core import limits
from node.core.rooms import RSVP_ANSWERS, Room, current_key
from node.core.types import AnswerBody, EventBody, Kind, LeaveBody, PollBody, RoomBody, RsvpBody, Visibility
from node.daemon.service import NodeService
from node.errors import PublishError
from node.rooms.private import PrivateRooms
from node.store.rooms import EventView, PollView

ROOM_FIELDS = Fields(
    Text("name", required=True, max_bytes=limits.MAX_ROOM_NAME_BYTES),
    Text("topic", default="", max_bytes=limits.MAX_TOPIC_BYTES, blank=True),
    Choice("visibility", default="open", choices=tuple(v.label for v in Visibility)),
    Flag("creator_only", default=False),
    Integer("slow_mode_s", default=0, minimum=0, maximum=limits.MAX_SLOW_MODE_S),
)
INVITE_FIELDS = Fields(Member("member", required=True))
#: Events and polls of one room ('' the general room), or of every room when left out.
IN_ROOM_QUERY = Fields(RoomRef("room"))
EVENT_FIELDS = Fields(
    Text("title", required=True, max_bytes=limits.MAX_TITLE_BYTES),
    millis("starts_ms"),
    millis("ends_ms"),
    Text("place", default="", max_bytes=limits.MAX_PLACE_BYTES, blank=True),
    RoomRef("room", default=""),
)
RSVP_FIELDS = Fields(Choice("answer", required=True, choices=("yes", "no", "maybe")))
POLL_FIELDS = Fields(
    Text("question", required=True, max_bytes=limits.MAX_TOPIC_BYTES),
    Items(
        "options",
        required=True,
        item=Text("option", max_bytes=limits.MAX_OPTION_BYTES),
        min_items=2,
        max_items=limits.MAX_POLL_OPTIONS,
    ),
    millis("closes_ms"),
    RoomRef("room", default=""),
)
ANSWER_FIELDS = Fields(Integer("option", required=True, minimum=0, maximum=limits.MAX_POLL_OPTIONS - 1))


@dataclass
class Rooms:
    service: NodeService
    private: PrivateRooms
    publish: Publisher
    #: Gossips a message the keyring signed and stored itself (room keys).
    broadcast: Callable[[bytes], Awaitable[None]]
    #: Starts or stops following a room's gossip topic.
    follow: Callable[[str, bool], Awaitable[None]]
    following: Callable[[], set[str]]

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/v1/rooms", self.list_rooms),
            Route("POST", "/v1/rooms", self.create_room, Takes.JSON_REQUIRED, fields=ROOM_FIELDS),
            Route("POST", "/v1/rooms/{id}/join", self.join),
            Route("POST", "/v1/rooms/{id}/leave", self.leave),
            Route("POST", "/v1/rooms/{id}/invite", self.invite, Takes.JSON, fields=INVITE_FIELDS),
            Route("GET", "/v1/events", self.list_events, query=IN_ROOM_QUERY),
            Route("POST", "/v1/events", self.create_event, Takes.JSON_REQUIRED, fields=EVENT_FIELDS),
            Route("POST", "/v1/events/{id}/rsvp", self.rsvp, Takes.JSON_REQUIRED, fields=RSVP_FIELDS),
            Route("GET", "/v1/polls", self.list_polls, query=IN_ROOM_QUERY),
            Route("POST", "/v1/polls", self.create_poll, Takes.JSON_REQUIRED, fields=POLL_FIELDS),
            Route("GET", "/v1/polls/{id}", self.poll),
            Route("POST", "/v1/polls/{id}/answer", self.answer, Takes.JSON_REQUIRED, fields=ANSWER_FIELDS),
        ]

    # ------------------------------------------------------------------ rooms

    async def list_rooms(self, call: Call) -> Response:
        return Response(200, {"rooms": [self._room_json(r) for r in self.service.store.rooms.all()]})

    async def create_room(self, call: Call) -> Response:
        data = call.data
        visibility = Visibility[data["visibility"].upper()]
        body = RoomBody(data["name"], data["topic"], visibility, data["creator_only"], data["slow_mode_s"])
        answer = await self.publish(Kind.ROOM, body, "")
        room_id = answer["id"]
        await self.follow(room_id, True)
        if visibility.encrypted:
            room = self._room(room_id)
            readers = {self.private.member} if visibility is Visibility.PRIVATE else self.private.desired(room)
            try:
                key = self.private.issue_key(room, {m for m in readers or set() if m})
            except PublishError as exc:
                raise HttpError(422, str(exc)) from None
            await self.broadcast(key.envelope)
        return Response(201, {**answer, "room": room_id})

    async def join(self, call: Call) -> Response:
        room = self._room(call.params["id"])
        await self.follow(room.id, True)
        return Response(200, {"room": room.id, "following": True})

    async def leave(self, call: Call) -> Response:
        """Stops following; in an encrypted room this node can read, a LEAVE first, so the
        remaining participants rotate the key past this member."""
        room = self._room(call.params["id"])
        if room.encrypted and self.private.can_read(room):
            await self.publish(Kind.LEAVE, LeaveBody(), room.id)
        await self.follow(room.id, False)
        return Response(200, {"room": room.id, "following": False})

    async def invite(self, call: Call) -> Response:
        room = self._room(call.params["id"])
        if not room.encrypted:
            raise HttpError(400, "open rooms need no invitation: anyone may join")
        try:
            key = self.private.invite(room, call.data["member"])
        except PublishError as exc:
            raise HttpError(422, str(exc)) from None
        await self.broadcast(key.envelope)
        return Response(201, {"room": room.id, "key": key.id.hex()})

    def _room(self, room_id: str) -> Room:
        room = self.service.store.room(room_id)
        if room is None:
            raise HttpError(404, f"no room {room_id} on this node")
        return room

    def _room_of(self, message_id: bytes) -> str:
        """The room a message (an event, a poll) was posted in: answers go to the same room."""
        author_room = self.service.store.messages.room_of(message_id)
        if author_room is None:
            raise HttpError(404, f"no message {message_id.hex()} on this node")
        return author_room

    def _room_json(self, room: Room) -> dict[str, Any]:
        readable = not room.encrypted or self.private.can_read(room)
        key = current_key(self.service.store.rooms.room_keys(room.id)) if room.encrypted else None
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
            "key": None if key is None else key.key_id.hex(),
        }

    # ------------------------------------------------------------------ events

    async def list_events(self, call: Call) -> Response:
        events = self.service.store.rooms.events(call.query["room"])
        return Response(200, {"events": [_event_json(e) for e in events]})

    async def create_event(self, call: Call) -> Response:
        data = call.data
        if data["ends_ms"] < data["starts_ms"]:
            raise HttpError(400, "an event ends after it starts: ends_ms must not be less than starts_ms")
        body = EventBody(data["title"], data["starts_ms"], data["ends_ms"], data["place"])
        return Response(201, await self.publish(Kind.EVENT, body, data["room"]))

    async def rsvp(self, call: Call) -> Response:
        event = parse_id(call.params["id"], "event id")
        answer = {v: k for k, v in RSVP_ANSWERS.items()}[call.data["answer"]]
        return Response(201, await self.publish(Kind.RSVP, RsvpBody(event, answer), self._room_of(event)))

    # ------------------------------------------------------------------ polls

    async def list_polls(self, call: Call) -> Response:
        polls = self.service.store.rooms.polls(call.query["room"])
        return Response(200, {"polls": [_poll_json(p) for p in polls]})

    async def create_poll(self, call: Call) -> Response:
        data = call.data
        body = PollBody(data["question"], data["options"], data["closes_ms"])
        return Response(201, await self.publish(Kind.POLL, body, data["room"]))

    async def poll(self, call: Call) -> Response:
        ident = call.params["id"]
        view = self.service.store.rooms.poll_view(parse_id(ident, "poll id"))
        if view is None:
            raise HttpError(404, f"no poll {ident} on this node")
        return Response(200, _poll_json(view))

    async def answer(self, call: Call) -> Response:
        poll_id = parse_id(call.params["id"], "poll id")
        body = AnswerBody(poll_id, call.data["option"])
        return Response(201, await self.publish(Kind.ANSWER, body, self._room_of(poll_id)))


def _event_json(event: EventView) -> dict[str, Any]:
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


def _poll_json(poll: PollView) -> dict[str, Any]:
    return {
        "id": poll.id.hex(),
        "author": poll.author,
        "room": poll.room,
        "question": poll.body.question,
        "options": list(poll.body.options),
        "closes_ms": poll.body.closes_ms,
        "tally": poll.tally,
    }
