"""Published vectors of guests (spec section 18): passes and their ends (kinds 16 and 17), and
what a guest key may write with the passes stored for it, each case with one fault.

The guest's key comes from the published seed of "guest" like the members' keys; it is in no
member's name in the view. The passes a case relies on are listed in its ``known`` (stored passes
with their inviter, times and end).
"""

from __future__ import annotations

from typing import Any

from node.core.encoding import message_id
from node.core.types import (
    DeleteBody,
    GuestEndBody,
    GuestPassBody,
    Kind,
    MessageId,
    PollBody,
    PostBody,
    ReactionBody,
    RoomBody,
    Visibility,
)
from tests.unit.node.core.vectorfile import hexed
from tests.unit.node.core.vectors_base import NOW_MS, PEOPLE, TARGET, seed, sign, signer
from tests.unit.node.core.vectors_more import PRIVATE, ROOMS, _record, _room

Case = dict[str, Any]
DAY_MS = 86_400_000
GUEST = signer("guest").public_key
GARDEN, GARDEN_ROOM = _room("alice", RoomBody("garden", "soil and seeds", Visibility.OPEN))
CHESS, CHESS_ROOM = _room("bob", RoomBody("chess", "", Visibility.OPEN))
PASS = MessageId(message_id(b"alice's pass for the guest, an hour ago"))


def _known(until_ms: int = NOW_MS + 3 * DAY_MS, ended_ms: int | None = None) -> dict[str, Any]:
    """The rooms, and alice's pass for the guest into the garden, issued an hour ago."""
    stored = {
        "guest": hexed(GUEST),
        "room": GARDEN,
        "inviter": PEOPLE["alice"],
        "issued_ms": NOW_MS - 3_600_000,
        "until_ms": until_ms,
        "note": "soil scientist",
        "ended_ms": ended_ms,
    }
    return {"rooms": {**ROOMS, GARDEN: GARDEN_ROOM, CHESS: CHESS_ROOM}, "guest_passes": {PASS: stored}}


def _pass(until_ms: int, room: str = GARDEN, who: str = "alice") -> bytes:
    return sign(who, Kind.GUEST_PASS, GuestPassBody(GUEST, until_ms, "soil scientist"), room=room)


def pass_cases() -> list[Case]:
    """Guest passes and their ends (kinds 16 and 17)."""
    rooms = {"rooms": _known()["rooms"]}
    end = GuestEndBody(PASS)
    return [
        {"name": "guest-pass", "description": "alice invites the guest into the garden for 3 days",
         "envelope": _pass(NOW_MS + 3 * DAY_MS), "known": rooms},
        {"name": "guest-pass-too-long", "description": "8 days: the default policy allows 7",
         "envelope": _pass(NOW_MS + 8 * DAY_MS), "known": rooms},
        {"name": "guest-pass-ending-at-once", "description": "a pass ends after its own timestamp",
         "envelope": _pass(NOW_MS), "known": rooms},
        {"name": "guest-pass-to-the-general-room", "description": "a guest is invited to a room",
         "envelope": _pass(NOW_MS + DAY_MS, room=""), "known": rooms},
        {"name": "guest-pass-to-a-private-room", "description": "guests are invited to open rooms only",
         "envelope": _pass(NOW_MS + DAY_MS, room=PRIVATE), "known": rooms},
        {"name": "guest-pass-by-a-non-member", "description": "mallory is no member: she invites nobody",
         "envelope": _pass(NOW_MS + DAY_MS, who="mallory"), "known": rooms},
        {"name": "guest-end-by-its-inviter", "description": "alice ends her pass",
         "envelope": sign("alice", Kind.GUEST_END, end, room=GARDEN), "known": _known()},
        {"name": "guest-end-by-another-member", "description": "bob is neither its inviter nor a moderator",
         "envelope": sign("bob", Kind.GUEST_END, end, room=GARDEN), "known": _known()},
        {"name": "guest-end-in-another-room", "description": "a pass is ended in its own room",
         "envelope": sign("alice", Kind.GUEST_END, end, room=CHESS), "known": _known()},
        {"name": "guest-end-of-an-unknown-pass", "description": "the pass has not arrived: asked for again later",
         "envelope": sign("alice", Kind.GUEST_END, end, room=GARDEN), "known": rooms},
    ]  # fmt: skip


def writing_cases() -> list[Case]:
    """What the guest's key writes, judged by the pass stored for it."""
    post = PostBody("The beds need lime")
    return [
        {"name": "guest-post", "description": "the guest posts in the garden: its author is guest:<key hex>",
         "envelope": sign("guest", Kind.POST, post, room=GARDEN), "known": _known()},
        {"name": "guest-reaction", "description": "the guest reacts to a post in the garden",
         "envelope": sign("guest", Kind.REACTION, ReactionBody(TARGET, "🌱"), room=GARDEN), "known": _known()},
        {"name": "guest-post-in-another-room", "description": "the pass is for the garden, not the chess room",
         "envelope": sign("guest", Kind.POST, post, room=CHESS), "known": _known()},
        {"name": "guest-post-in-the-general-room", "description": "the general room is the members'",
         "envelope": sign("guest", Kind.POST, post), "known": _known()},
        {"name": "guest-post-after-the-end", "description": "signed a minute after alice ended the pass",
         "envelope": sign("guest", Kind.POST, post, room=GARDEN), "known": _known(ended_ms=NOW_MS - 60_000)},
        {"name": "guest-post-after-the-expiry", "description": "signed a minute after the pass ran out",
         "envelope": sign("guest", Kind.POST, post, room=GARDEN), "known": _known(until_ms=NOW_MS - 60_000)},
        {"name": "guest-post-without-a-pass", "description": "an unknown key in a room: its pass may be on its way",
         "envelope": sign("guest", Kind.POST, post, room=GARDEN), "known": {"rooms": _known()["rooms"]}},
        {"name": "guest-poll", "description": "a guest posts, replies and reacts: no polls",
         "envelope": sign("guest", Kind.POLL, PollBody("Lime?", ("yes", "no"), NOW_MS + DAY_MS), room=GARDEN),
         "known": _known()},
        {"name": "guest-delete-after-the-end", "description": "a guest deletes its own post after its pass ended",
         "envelope": sign("guest", Kind.DELETE, DeleteBody(TARGET), room=GARDEN),
         "known": _known(ended_ms=NOW_MS - 60_000)},
    ]  # fmt: skip


def node_cases() -> list[Case]:
    """The guest node's peer record: in the address book while one of its passes runs."""
    record = sign("guest", Kind.PEER, _record("guest", DAY_MS, seed("the guest's node")))
    return [
        {"name": "guest-peer", "description": "the guest's node, while its pass runs",
         "envelope": record, "known": _known()},
        {"name": "guest-peer-after-the-expiry", "description": "signed after the guest's only pass ran out",
         "envelope": record, "known": _known(until_ms=NOW_MS - 60_000)},
        {"name": "guest-peer-without-a-pass", "description": "an unknown key's record: its pass may be on its way",
         "envelope": record, "known": {"rooms": _known()["rooms"]}},
    ]  # fmt: skip


def guest_cases() -> list[Case]:
    return [*pass_cases(), *writing_cases(), *node_cases()]
