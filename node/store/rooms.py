"""Rooms and what happens in them: room settings, room keys and X25519 keys, events with their
RSVPs, polls with their answers, and which rooms this node follows (schema version 4).

Rules that must agree across nodes (which room settings win, whose answer counts) are the pure
ones in ``node.core.rooms``; this part only keeps what they need, last write winning by
(timestamp, message id) wherever a member can change their mind. ``apply`` runs inside the
transaction that stores the message.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from node.core.encoding import decode
from node.core.errors import DecodeError
from node.core.rooms import Answer, Room, RoomKey, tally
from node.core.types import (
    AnswerBody,
    EventBody,
    Kind,
    Message,
    MessageId,
    PollBody,
    PostBody,
    RoomBody,
    RoomKeyBody,
    RsvpBody,
    SealedBody,
    Visibility,
    XKeyBody,
)
from node.store.db import Database


@dataclass(frozen=True)
class PollView:
    id: MessageId
    author: str
    room: str
    body: PollBody
    tally: list[int]


@dataclass(frozen=True)
class EventView:
    id: MessageId
    author: str
    room: str
    body: EventBody
    answers: dict[str, int]  # member -> 0 no, 1 yes, 2 maybe


class Rooms:
    def __init__(self, db: Database) -> None:
        self._db = db

    # ------------------------------------------------------------------ writing

    def apply(self, conn: sqlite3.Connection, message: Message, author: str) -> None:
        """Updates the state a newly stored message changes (in the caller's transaction)."""
        body = message.body
        version = (message.timestamp_ms, message.id)
        if isinstance(body, RoomBody):
            self._room(conn, message, author, body)
        elif isinstance(body, XKeyBody):
            _lww(conn, "xkeys", "member", (author,), ("public",), (body.public,), version)
        elif isinstance(body, RoomKeyBody):
            conn.execute(
                "INSERT OR IGNORE INTO room_keys (key_id, room, author, timestamp_ms, recipients) VALUES (?,?,?,?,?)",
                (message.id, message.room, author, message.timestamp_ms, b"".join(r.public for r in body.recipients)),
            )
        elif isinstance(body, AnswerBody):
            _lww(conn, "answers", "poll, member", (body.poll, author), ("option",), (body.option,), version)
        elif isinstance(body, RsvpBody):
            _lww(conn, "rsvps", "event, member", (body.event, author), ("answer",), (body.answer,), version)
        elif isinstance(body, PostBody) and body.attachments:
            _attach(conn, [message])
        if message.room and isinstance(body, PostBody | SealedBody | EventBody | PollBody):
            _posted(conn, [(message, author)])

    def apply_posts(self, conn: sqlite3.Connection, posts: list[tuple[Message, str]]) -> None:
        """``apply`` for newly stored posts (PostBody) and their authors, a statement per table."""
        _attach(conn, [m for m, _ in posts if isinstance(m.body, PostBody) and m.body.attachments])
        _posted(conn, [(m, a) for m, a in posts if m.room])

    def _room(self, conn: sqlite3.Connection, message: Message, author: str, body: RoomBody) -> None:
        room_id = message.room or message.id.hex()
        current = self.room(room_id)
        if current is not None and (author != current.creator or (message.timestamp_ms, message.id) <= current.version):
            return
        if current is None and message.room:
            return  # an update whose room we have not seen created: it cannot be judged yet
        conn.execute(
            "INSERT OR REPLACE INTO rooms (id, creator, name, topic, visibility, creator_only, slow_mode_s,"
            " version_ms, version_id) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                room_id,
                author,
                body.name,
                body.topic,
                int(body.visibility),
                int(body.creator_only),
                body.slow_mode_s,
                message.timestamp_ms,
                message.id,
            ),
        )

    def set_follow(self, room_id: str, on: bool) -> None:
        with self._db.transaction() as conn:
            if on:
                conn.execute("INSERT OR IGNORE INTO follows (room) VALUES (?)", (room_id,))
            else:
                conn.execute("DELETE FROM follows WHERE room = ?", (room_id,))

    # ------------------------------------------------------------------ reading

    def room(self, room_id: str) -> Room | None:
        row = self._db.conn.execute(
            "SELECT creator, name, topic, visibility, creator_only, slow_mode_s, version_ms, version_id"
            " FROM rooms WHERE id = ?",
            (room_id,),
        ).fetchone()
        if row is None:
            return None
        body = RoomBody(str(row[1]), str(row[2]), Visibility(row[3]), bool(row[4]), int(row[5]))
        return Room(room_id, str(row[0]), body, (int(row[6]), bytes(row[7])))

    def all(self) -> list[Room]:
        """Every room this node knows, by name."""
        ids = [str(r[0]) for r in self._db.conn.execute("SELECT id FROM rooms ORDER BY name")]
        return [r for r in (self.room(i) for i in ids) if r is not None]

    def last_post_at(self, member: str, room_id: str) -> int | None:
        row = self._db.conn.execute(
            "SELECT last_ms FROM room_posts WHERE member = ? AND room = ?", (member, room_id)
        ).fetchone()
        return None if row is None else int(row[0])

    def follows(self) -> set[str]:
        return {str(r[0]) for r in self._db.conn.execute("SELECT room FROM follows")}

    def room_keys(self, room_id: str) -> list[RoomKey]:
        return [
            RoomKey(
                MessageId(bytes(k)),
                (int(ts), bytes(k)),
                frozenset(bytes(r[i : i + 32]) for i in range(0, len(r), 32)),
            )
            for k, ts, r in self._db.conn.execute(
                "SELECT key_id, timestamp_ms, recipients FROM room_keys WHERE room = ?", (room_id,)
            )
        ]

    def xkeys(self) -> dict[str, bytes]:
        return {str(m): bytes(p) for m, p in self._db.conn.execute("SELECT member, public FROM xkeys")}

    def messages_in_room(self, room_id: str, kind: Kind, limit: int) -> list[Message]:
        """The newest ``limit`` messages of ``kind`` in a room, decoded, newest first."""
        rows = self._db.conn.execute(
            "SELECT envelope FROM messages WHERE room = ? AND kind = ? AND hidden = 0"
            " ORDER BY timestamp_ms DESC, id DESC LIMIT ?",
            (room_id, int(kind), limit),
        )
        return [decode(bytes(r[0])) for r in rows]

    def left_members(self, room_id: str, since_ms: int) -> set[str]:
        """Members who left a private room after ``since_ms`` (a LEAVE message there)."""
        rows = self._db.conn.execute(
            "SELECT DISTINCT author FROM messages WHERE kind = ? AND room = ? AND timestamp_ms > ?",
            (int(Kind.LEAVE), room_id, since_ms),
        )
        return {str(r[0]) for r in rows}

    def poll(self, poll_id: bytes) -> PollBody | None:
        body = self._body_of(poll_id, Kind.POLL)
        return body if isinstance(body, PollBody) else None

    def poll_view(self, poll_id: bytes) -> PollView | None:
        body = self.poll(poll_id)
        if body is None:
            return None
        conn = self._db.conn
        author, room_id = conn.execute("SELECT author, room FROM messages WHERE id = ?", (poll_id,)).fetchone()
        answers = [
            Answer(str(m), int(o), (int(ms), bytes(i)))
            for m, o, ms, i in conn.execute(
                "SELECT member, option, version_ms, version_id FROM answers WHERE poll = ?", (poll_id,)
            )
        ]
        return PollView(
            MessageId(poll_id), str(author), str(room_id), body, tally(body.options, body.closes_ms, answers)
        )

    def polls(self, room_id: str | None = None) -> list[PollView]:
        """Polls of one room ('' is the general room; None: every room), newest first."""
        ids = [
            bytes(r[0])
            for r in self._db.conn.execute(
                "SELECT id FROM messages WHERE kind = ? AND (? IS NULL OR room = ?) AND hidden = 0"
                " ORDER BY timestamp_ms DESC",
                (int(Kind.POLL), room_id, room_id),
            )
        ]
        return [p for p in (self.poll_view(i) for i in ids) if p is not None]

    def events(self, room_id: str | None = None) -> list[EventView]:
        """Events of one room ('' is the general room; None: every room), newest first."""
        conn = self._db.conn
        rows = conn.execute(
            "SELECT id, author, room FROM messages WHERE kind = ? AND (? IS NULL OR room = ?) AND hidden = 0"
            " ORDER BY timestamp_ms DESC",
            (int(Kind.EVENT), room_id, room_id),
        ).fetchall()
        out = []
        for ident, author, room in rows:
            body = self._body_of(bytes(ident), Kind.EVENT)
            if not isinstance(body, EventBody):
                continue
            answers = {
                str(m): int(a) for m, a in conn.execute("SELECT member, answer FROM rsvps WHERE event = ?", (ident,))
            }
            out.append(EventView(MessageId(bytes(ident)), str(author), str(room), body, answers))
        return out

    def _body_of(self, message_id: bytes, kind: Kind) -> object | None:
        row = self._db.conn.execute(
            "SELECT envelope FROM messages WHERE id = ? AND kind = ?", (message_id, int(kind))
        ).fetchone()
        if row is None:
            return None
        try:
            return decode(bytes(row[0])).body
        except DecodeError:  # pragma: no cover - only valid envelopes are stored
            return None


def _lww(
    conn: sqlite3.Connection,
    table: str,
    key_columns: str,
    key: tuple[object, ...],
    value_columns: tuple[str, ...],
    values: tuple[object, ...],
    version: tuple[int, bytes],
) -> None:
    """Last write wins: replaces the row for ``key`` only with a newer (timestamp, id)."""
    keys = [c.strip() for c in key_columns.split(",")]
    where = " AND ".join(f"{c} = ?" for c in keys)
    row = conn.execute(f"SELECT version_ms, version_id FROM {table} WHERE {where}", key).fetchone()  # noqa: S608
    if row is not None and (int(row[0]), bytes(row[1])) >= version:
        return
    columns = [*keys, *value_columns, "version_ms", "version_id"]
    marks = ",".join("?" * len(columns))
    conn.execute(
        f"INSERT OR REPLACE INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608 - fixed names
        (*key, *values, *version),
    )


class RoomsKnown:
    """The room half of validation's ``Known`` (``node.core.validation``), answered by ``rooms``:
    shared by the store and by a sync batch's ``BatchKnown``."""

    rooms: Rooms

    def room(self, room_id: str) -> Room | None:
        return self.rooms.room(room_id)

    def last_post_at(self, member: str, room_id: str) -> int | None:
        return self.rooms.last_post_at(member, room_id)

    def poll(self, poll_id: bytes) -> PollBody | None:
        return self.rooms.poll(poll_id)


def _attach(conn: sqlite3.Connection, posts: list[Message]) -> None:
    """The attachments the posts name; from here on each blob lives as long as a visible post names it."""
    named = [(m.id, a) for m in posts if isinstance(m.body, PostBody) for a in m.body.attachments]
    if not named:
        return
    conn.executemany(
        "INSERT OR IGNORE INTO attachments (message_id, sha256, size, mime) VALUES (?,?,?,?)",
        [(i, a.sha256, a.size, a.mime) for i, a in named],
    )
    conn.executemany("UPDATE blobs SET keep_until_ms = 0 WHERE sha256 = ?", [(a.sha256,) for _, a in named])


def _posted(conn: sqlite3.Connection, posts: list[tuple[Message, str]]) -> None:
    """When each author last posted in the room (for slow mode)."""
    if posts:
        conn.executemany(
            "INSERT INTO room_posts (member, room, last_ms) VALUES (?,?,?) ON CONFLICT (member, room)"
            " DO UPDATE SET last_ms = max(last_ms, excluded.last_ms)",
            [(author, m.room, m.timestamp_ms) for m, author in posts],
        )
