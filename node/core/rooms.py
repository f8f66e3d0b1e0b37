"""Rooms, private-room keys, polls and events: the rules every node applies identically.

Pure functions over plain records, so that two nodes holding the same messages always agree on
a room's settings, who can read a private room, which key is current, and a poll's tally.

- A room is created by a ROOM message (header room ""); its id is that message's id. Its creator
  may update it with later ROOM messages carrying the room id; the latest (timestamp, id) wins.
- A private (or members) room's readers are the participants named in its current key: the
  ROOM_KEY message with the greatest (timestamp, id). A participant's X25519 key is the latest
  XKEY message of that member.
- A poll's tally counts, per member, the answer with the greatest (timestamp, id) that is not
  after the poll closes; answers naming an option that does not exist count for nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from node.core.types import MessageId, RoomBody, Visibility

#: RSVP answers by their wire value.
RSVP_ANSWERS = {0: "no", 1: "yes", 2: "maybe"}


@dataclass(frozen=True)
class Room:
    id: str  # hex of the creating message's id
    creator: str  # member address
    body: RoomBody
    version: tuple[int, bytes]  # (timestamp, id) of the message that set ``body``

    @property
    def encrypted(self) -> bool:
        return self.body.visibility is not Visibility.OPEN


def room_after(room: Room | None, author: str, body: RoomBody, version: tuple[int, bytes], room_id: str) -> Room:
    """The room once a ROOM message (by ``author``, at ``version``) is applied: creation, or an
    update by the creator that is newer than the current settings."""
    if room is None:
        return Room(room_id, author, body, version)
    if author != room.creator or version <= room.version:
        return room
    return Room(room.id, room.creator, body, version)


@dataclass(frozen=True)
class RoomKey:
    key_id: MessageId
    version: tuple[int, bytes]
    recipients: frozenset[bytes]  # X25519 public keys


def current_key(keys: Iterable[RoomKey]) -> RoomKey | None:
    """The key a writer uses now: the greatest (timestamp, id)."""
    return max(keys, key=lambda k: k.version, default=None)


def participants(key: RoomKey | None, xkeys: dict[str, bytes]) -> set[str]:
    """Members whose current X25519 key the room key is sealed to."""
    if key is None:
        return set()
    return {member for member, public in xkeys.items() if public in key.recipients}


@dataclass(frozen=True)
class Answer:
    member: str
    option: int
    version: tuple[int, bytes]


def tally(options: Sequence[str], closes_ms: int, answers: Iterable[Answer]) -> list[int]:
    """Votes per option: each member's latest answer given before the poll closed."""
    latest: dict[str, Answer] = {}
    for answer in answers:
        if answer.version[0] > closes_ms:
            continue
        held = latest.get(answer.member)
        if held is None or answer.version > held.version:
            latest[answer.member] = answer
    counts = [0] * len(options)
    for answer in latest.values():
        if 0 <= answer.option < len(options):
            counts[answer.option] += 1
    return counts
