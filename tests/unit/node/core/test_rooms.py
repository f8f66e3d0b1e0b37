from __future__ import annotations

from node.core.rooms import Answer, RoomKey, current_key, participants, room_after, tally
from node.core.types import MessageId, RoomBody, Visibility

BODY = RoomBody("garden", "weeding on Sundays", Visibility.OPEN)


def test_only_the_creator_updates_a_room_and_newer_wins() -> None:
    room = room_after(None, "alice", BODY, (100, b"\x01"), "ab" * 32)
    assert (room.creator, room.body.name) == ("alice", "garden")
    renamed = RoomBody("garden club", "", Visibility.OPEN)
    assert room_after(room, "bob", renamed, (200, b"\x02"), room.id) == room  # not the creator
    assert room_after(room, "alice", renamed, (50, b"\x02"), room.id) == room  # older
    assert room_after(room, "alice", renamed, (200, b"\x02"), room.id).body.name == "garden club"


def test_the_newest_key_names_the_participants() -> None:
    old = RoomKey(MessageId(b"\x01" * 32), (100, b"\x01"), frozenset({b"A", b"B", b"C"}))
    new = RoomKey(MessageId(b"\x02" * 32), (200, b"\x00"), frozenset({b"A", b"B"}))
    assert current_key([old, new]) == new
    assert current_key([]) is None
    xkeys = {"alice": b"A", "bob": b"B", "carol": b"C"}
    assert participants(new, xkeys) == {"alice", "bob"}
    assert participants(None, xkeys) == set()


def test_tally_counts_each_members_latest_answer_before_closing() -> None:
    answers = [
        Answer("alice", 0, (10, b"\x01")),
        Answer("alice", 1, (20, b"\x01")),  # alice changes her mind: counts once, for option 1
        Answer("bob", 1, (15, b"\x02")),
        Answer("carol", 0, (31, b"\x03")),  # after the poll closed
        Answer("dana", 7, (12, b"\x04")),  # no such option
        Answer("emil", 0, (25, b"\x05")),
        Answer("emil", 2, (25, b"\x06")),  # same time: the larger id wins
    ]
    assert tally(["yes", "no", "later"], 30, answers) == [0, 2, 1]
    assert tally(["yes", "no", "later"], 30, list(reversed(answers))) == [0, 2, 1]
