"""The guest routes: list guest passes, invite a non-member's app key into one room, end a pass.

A pass and its end are signed messages like a post (kinds GUEST_PASS and GUEST_END), so these
routes only check what the node can tell before signing (the room exists and is open, the key is
no member's, the pass is known and not yet ended) and leave the community's rules (who may
invite, for how long, who may end) to validation, whose refusal comes back with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter
from fastapi import Query as InQuery

from node.api.fields import Body, Hash, Millis, Query, QueryFlag, RoomRef, Text, parse_id
from node.api.naming import Names
from node.api.problems import HttpError, Json
from node.api.publish import Publisher
from node.core import limits
from node.core.guests import GuestPass, guest_author
from node.core.types import AppKey, GuestEndBody, GuestPassBody, Kind, MessageId
from node.daemon.service import NodeService


class GuestsQuery(Query):
    #: Also the passes that ran out or were ended.
    all: QueryFlag = False


class InviteFields(Body):
    room: RoomRef
    #: The guest's app key (64 hex digits), as its node prints it.
    key: Hash
    #: When the pass runs out (ms since 1970).
    until: Millis
    note: Annotated[str, Text(limits.MAX_GUEST_NOTE_BYTES, blank=True)] = ""


@dataclass
class Guests:
    service: NodeService
    publish: Publisher
    names: Names

    def add_routes(self, api: APIRouter) -> None:
        api.add_api_route("/v1/guests", self.listing, methods=["GET"])
        api.add_api_route("/v1/guests", self.invite, methods=["POST"], status_code=201)
        api.add_api_route("/v1/guests/{id}/end", self.end, methods=["POST"], status_code=201)

    async def listing(self, query: Annotated[GuestsQuery, InQuery()]) -> Json:
        """The guest passes in force (with ``all``, every pass this node holds), newest first."""
        now = self.service.now_ms()
        passes = self.service.store.guests.listing(now, include_past=query.all)
        return Json(self.names.label({"passes": [pass_json(p, now) for p in passes]}))

    async def invite(self, body: InviteFields) -> Json:
        """Invites the app key ``key`` to post, reply and react in ``room`` until ``until``."""
        if not body.room:
            raise HttpError(400, "room: a guest is invited to one room, not to the general room")
        found = self.service.store.rooms.room(body.room)
        if found is None:
            raise HttpError(404, f"no room {body.room} on this node")
        if found.encrypted:
            raise HttpError(400, f"room {found.body.name!r} is private: guests are invited to open rooms")
        if self.service.view.owner_of(body.key) is not None:
            raise HttpError(400, "key: that app key is a member's; guests are people outside the community")
        if body.until <= self.service.now_ms():
            raise HttpError(400, "until: a guest pass runs out in the future")
        guest = GuestPassBody(AppKey(body.key), body.until, body.note)
        return Json(await self.publish(Kind.GUEST_PASS, guest, body.room), 201)

    async def end(self, id: str) -> Json:
        """Ends the pass ``id`` now (its inviter or a moderator)."""
        pass_id = MessageId(parse_id(id, "pass id"))
        found = self.service.store.guests.get(pass_id)
        if found is None:
            raise HttpError(404, f"no guest pass {pass_id.hex()} on this node")
        if found.ended_ms is not None:
            raise HttpError(409, f"guest pass {pass_id.hex()[:16]}… was ended already")
        return Json(await self.publish(Kind.GUEST_END, GuestEndBody(pass_id), found.room), 201)


def pass_json(guest: GuestPass, now_ms: int) -> dict[str, Any]:
    return {
        "id": guest.id.hex(),
        "guest": guest_author(guest.guest),
        "key": guest.guest.hex(),
        "room": guest.room,
        "inviter": guest.inviter,
        "note": guest.note,
        "issued_ms": guest.issued_ms,
        "until_ms": guest.until_ms,
        "ended_ms": guest.ended_ms,
        "active": guest.covers(now_ms),
    }
