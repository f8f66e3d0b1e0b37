"""The rooms routes: rooms (open, members-only, private), and the events and polls held in them.

Creating an encrypted room issues its first key, inviting seals the current key to one more
member, and joining or leaving starts or stops following the room's gossip topic; the keys
themselves are ``PrivateRooms``' business. Posts in a room go through the message routes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter
from fastapi import Query as InQuery

from node.api.fields import Body, Choice, Flag, Integer, Items, MemberAddress, Millis, Query, RoomRef, Text, parse_id
from node.api.naming import Names
from node.api.problems import HttpError, Json
from node.api.publish import Publisher
from node.core import limits
from node.core.rooms import RSVP_ANSWERS, Room, current_key
from node.core.types import AnswerBody, EventBody, Kind, LeaveBody, PollBody, RoomBody, RsvpBody, Visibility
from node.daemon.service import NodeService
from node.errors import PublishError
from node.rooms.private import PrivateRooms
from node.store.rooms import EventView, PollView


class RoomFields(Body):
    name: Annotated[str, Text(limits.MAX_ROOM_NAME_BYTES)]
    topic: Annotated[str, Text(limits.MAX_TOPIC_BYTES, blank=True)] = ""
    visibility: Annotated[str, Choice(*(v.label for v in Visibility))] = "open"
    creator_only: Flag = False
    slow_mode_s: Annotated[int, Integer(0, limits.MAX_SLOW_MODE_S)] = 0


class InviteFields(Body):
    member: MemberAddress


class InRoomQuery(Query):
    """Events and polls of one room ('' the general room), or of every room when left out."""

    room: RoomRef | None = None


class EventFields(Body):
    title: Annotated[str, Text(limits.MAX_TITLE_BYTES)]
    starts_ms: Millis
    ends_ms: Millis
    place: Annotated[str, Text(limits.MAX_PLACE_BYTES, blank=True)] = ""
    room: RoomRef = ""


class RsvpFields(Body):
    answer: Annotated[str, Choice("yes", "no", "maybe")]


class PollFields(Body):
    question: Annotated[str, Text(limits.MAX_TOPIC_BYTES)]
    options: Annotated[tuple[Annotated[str, Text(limits.MAX_OPTION_BYTES)], ...], Items(2, limits.MAX_POLL_OPTIONS)]
    closes_ms: Millis
    room: RoomRef = ""


class AnswerFields(Body):
    option: Annotated[int, Integer(0, limits.MAX_POLL_OPTIONS - 1)]


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
    names: Names

    def add_routes(self, api: APIRouter) -> None:
        api.add_api_route("/v1/rooms", self.list_rooms, methods=["GET"])
        api.add_api_route("/v1/rooms", self.create_room, methods=["POST"], status_code=201)
        api.add_api_route("/v1/rooms/{id}/join", self.join, methods=["POST"])
        api.add_api_route("/v1/rooms/{id}/leave", self.leave, methods=["POST"])
        api.add_api_route("/v1/rooms/{id}/invite", self.invite, methods=["POST"], status_code=201)
        api.add_api_route("/v1/events", self.list_events, methods=["GET"])
        api.add_api_route("/v1/events", self.create_event, methods=["POST"], status_code=201)
        api.add_api_route("/v1/events/{id}/rsvp", self.rsvp, methods=["POST"], status_code=201)
        api.add_api_route("/v1/polls", self.list_polls, methods=["GET"])
        api.add_api_route("/v1/polls", self.create_poll, methods=["POST"], status_code=201)
        api.add_api_route("/v1/polls/{id}", self.poll, methods=["GET"])
        api.add_api_route("/v1/polls/{id}/answer", self.answer, methods=["POST"], status_code=201)

    # ------------------------------------------------------------------ rooms

    async def list_rooms(self) -> Json:
        """Every room this node knows, with whether it follows and can read each."""
        return Json(self.names.label({"rooms": [self._room_json(r) for r in self.service.store.rooms.all()]}))

    async def create_room(self, fields: RoomFields) -> Json:
        """Creates a room (an encrypted one gets its first key) and follows it."""
        visibility = Visibility[fields.visibility.upper()]
        body = RoomBody(fields.name, fields.topic, visibility, fields.creator_only, fields.slow_mode_s)
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
        return Json({**answer, "room": room_id}, 201)

    async def join(self, id: str) -> Json:
        """Follows a room."""
        room = self._room(id)
        await self.follow(room.id, True)
        return Json({"room": room.id, "following": True})

    async def leave(self, id: str) -> Json:
        """Stops following; in an encrypted room this node can read, a LEAVE first, so the
        remaining participants rotate the key past this member."""
        room = self._room(id)
        if room.encrypted and self.private.can_read(room):
            await self.publish(Kind.LEAVE, LeaveBody(), room.id)
        await self.follow(room.id, False)
        return Json({"room": room.id, "following": False})

    async def invite(self, id: str, fields: InviteFields) -> Json:
        """Seals the room's current key to one more member."""
        room = self._room(id)
        if not room.encrypted:
            raise HttpError(400, "open rooms need no invitation: anyone may join")
        try:
            key = self.private.invite(room, fields.member)
        except PublishError as exc:
            raise HttpError(422, str(exc)) from None
        await self.broadcast(key.envelope)
        return Json({"room": room.id, "key": key.id.hex()}, 201)

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

    async def list_events(self, query: Annotated[InRoomQuery, InQuery()]) -> Json:
        """Events with their answers."""
        events = self.service.store.rooms.events(query.room)
        return Json(self.names.label({"events": [_event_json(e) for e in events]}))

    async def create_event(self, data: EventFields) -> Json:
        """Announces an event in a room."""
        if data.ends_ms < data.starts_ms:
            raise HttpError(400, "an event ends after it starts: ends_ms must not be less than starts_ms")
        body = EventBody(data.title, data.starts_ms, data.ends_ms, data.place)
        return Json(await self.publish(Kind.EVENT, body, data.room), 201)

    async def rsvp(self, id: str, fields: RsvpFields) -> Json:
        """Answers an event: yes, no or maybe."""
        event = parse_id(id, "event id")
        answer = {v: k for k, v in RSVP_ANSWERS.items()}[fields.answer]
        return Json(await self.publish(Kind.RSVP, RsvpBody(event, answer), self._room_of(event)), 201)

    # ------------------------------------------------------------------ polls

    async def list_polls(self, query: Annotated[InRoomQuery, InQuery()]) -> Json:
        """Polls with their tallies (not binding: the contract's votes are)."""
        polls = self.service.store.rooms.polls(query.room)
        return Json(self.names.label({"polls": [_poll_json(p) for p in polls]}))

    async def create_poll(self, data: PollFields) -> Json:
        """Asks a question with 2 to 10 options, open until ``closes_ms``."""
        body = PollBody(data.question, data.options, data.closes_ms)
        return Json(await self.publish(Kind.POLL, body, data.room), 201)

    async def poll(self, id: str) -> Json:
        """One poll and its tally."""
        view = self.service.store.rooms.poll_view(parse_id(id, "poll id"))
        if view is None:
            raise HttpError(404, f"no poll {id} on this node")
        return Json(self.names.label(_poll_json(view)))

    async def answer(self, id: str, fields: AnswerFields) -> Json:
        """Answers a poll with one option's index (a later answer replaces it)."""
        poll_id = parse_id(id, "poll id")
        body = AnswerBody(poll_id, fields.option)
        return Json(await self.publish(Kind.ANSWER, body, self._room_of(poll_id)), 201)


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
