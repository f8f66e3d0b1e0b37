"""Building blocks for core tests: a community, members with keys, and an in-memory ``Known``."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from node.core.facts import KeyAuthorised, KeyRevoked, MemberGone, MemberJoined
from node.core.guests import GuestPass
from node.core.rooms import Room
from node.core.signing import Signer
from node.core.types import Body, Community, Kind, PollBody
from node.core.view import CommunityView

COMMUNITY = Community(31337, bytes.fromhex("700b6a60ce7eaaea56f065753d8dcb9653dbad35"))
T0 = 1_796_112_000  # seconds: the chain time at which everyone joined
NOW_MS = (T0 + 3600) * 1000


def signer(name: str) -> Signer:
    return Signer(hashlib.sha256(name.encode()).digest())


def address(name: str) -> str:
    return "0x" + hashlib.sha256(b"addr" + name.encode()).hexdigest()[:40]


def view_with(*names: str, at: int = T0) -> CommunityView:
    """A view in which each named person is a member with an app key since ``at``."""
    view = CommunityView()
    for name in names:
        view.apply(MemberJoined(address(name)), at)
        view.apply(KeyAuthorised(address(name), signer(name).public_key), at)
    view.advance(NOW_MS)
    return view


def remove(view: CommunityView, name: str, at: int) -> None:
    view.apply(MemberGone(address(name)), at)


def revoke(view: CommunityView, name: str, at: int) -> None:
    view.apply(KeyRevoked(signer(name).public_key), at)


def envelope(name: str, kind: Kind, body: Body, ts_ms: int = NOW_MS, community: Community = COMMUNITY) -> bytes:
    return signer(name).envelope(community, kind, body, ts_ms)


@dataclass
class MemoryKnown:
    """The store's answers, from dicts."""

    messages: dict[bytes, str] = field(default_factory=dict)  # id -> author member
    tombstones: dict[bytes, str] = field(default_factory=dict)  # target id -> deleting member
    erasures: dict[str, int] = field(default_factory=dict)  # member -> erased until (ms)
    rooms: dict[str, Room] = field(default_factory=dict)
    last_posts: dict[tuple[str, str], int] = field(default_factory=dict)
    polls: dict[bytes, PollBody] = field(default_factory=dict)
    passes: dict[bytes, GuestPass] = field(default_factory=dict)  # pass id -> pass

    def has_message(self, message_id: bytes) -> bool:
        return message_id in self.messages

    def author_of(self, message_id: bytes) -> str | None:
        return self.messages.get(message_id)

    def tombstone_of(self, message_id: bytes) -> str | None:
        return self.tombstones.get(message_id)

    def erased_until(self, member: str) -> int | None:
        return self.erasures.get(member)

    def room(self, room_id: str) -> Room | None:
        return self.rooms.get(room_id)

    def last_post_at(self, member: str, room_id: str) -> int | None:
        return self.last_posts.get((member, room_id))

    def poll(self, poll_id: bytes) -> PollBody | None:
        return self.polls.get(poll_id)

    def guest_passes(self, guest: bytes) -> list[GuestPass]:
        return [p for p in self.passes.values() if p.guest == guest]

    def guest_pass(self, pass_id: bytes) -> GuestPass | None:
        return self.passes.get(pass_id)
