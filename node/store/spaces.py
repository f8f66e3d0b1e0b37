"""The state rooms, keys, events, polls and attachments build in the store (schema version 4).

Each function takes the store's connection, so they run inside the store's transactions. Rules
that must agree across nodes (which room settings win, whose answer counts) are the pure ones in
``node.core.rooms``; this module only keeps what they need, last write winning by
(timestamp, message id) wherever a member can change their mind.
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


def apply(conn: sqlite3.Connection, message: Message, author: str) -> None:
    """Updates the state a newly stored message changes."""
    body = message.body
    version = (message.timestamp_ms, message.id)
    if isinstance(body, RoomBody):
        _room(conn, message, author, body)
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
        conn.executemany(
            "INSERT OR IGNORE INTO attachments (message_id, sha256, size, mime) VALUES (?,?,?,?)",
            [(message.id, a.sha256, a.size, a.mime) for a in body.attachments],
        )
        # named by a post now: from here on the blob lives as long as a visible post names it
        conn.executemany("UPDATE blobs SET keep_until_ms = 0 WHERE sha256 = ?", [(a.sha256,) for a in body.attachments])
    if message.room and isinstance(body, PostBody | SealedBody | EventBody | PollBody):
        conn.execute(
            "INSERT INTO room_posts (member, room, last_ms) VALUES (?,?,?) ON CONFLICT (member, room)"
            " DO UPDATE SET last_ms = max(last_ms, excluded.last_ms)",
            (author, message.room, message.timestamp_ms),
        )


def _room(conn: sqlite3.Connection, message: Message, author: str, body: RoomBody) -> None:
    room_id = message.room or message.id.hex()
    current = room(conn, room_id)
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


# ------------------------------------------------------------------------------ reading


def room(conn: sqlite3.Connection, room_id: str) -> Room | None:
    row = conn.execute(
        "SELECT creator, name, topic, visibility, creator_only, slow_mode_s, version_ms, version_id"
        " FROM rooms WHERE id = ?",
        (room_id,),
    ).fetchone()
    if row is None:
        return None
    body = RoomBody(str(row[1]), str(row[2]), Visibility(row[3]), bool(row[4]), int(row[5]))
    return Room(room_id, str(row[0]), body, (int(row[6]), bytes(row[7])))


def rooms(conn: sqlite3.Connection) -> list[Room]:
    ids = [str(r[0]) for r in conn.execute("SELECT id FROM rooms ORDER BY name")]
    return [r for r in (room(conn, i) for i in ids) if r is not None]


def last_post_at(conn: sqlite3.Connection, member: str, room_id: str) -> int | None:
    row = conn.execute("SELECT last_ms FROM room_posts WHERE member = ? AND room = ?", (member, room_id)).fetchone()
    return None if row is None else int(row[0])


def _body_of(conn: sqlite3.Connection, message_id: bytes, kind: Kind) -> object | None:
    row = conn.execute("SELECT envelope FROM messages WHERE id = ? AND kind = ?", (message_id, int(kind))).fetchone()
    if row is None:
        return None
    try:
        return decode(bytes(row[0])).body
    except DecodeError:  # pragma: no cover - only valid envelopes are stored
        return None


def poll(conn: sqlite3.Connection, poll_id: bytes) -> PollBody | None:
    body = _body_of(conn, poll_id, Kind.POLL)
    return body if isinstance(body, PollBody) else None


@dataclass(frozen=True)
class PollView:
    id: MessageId
    author: str
    room: str
    body: PollBody
    tally: list[int]


def poll_view(conn: sqlite3.Connection, poll_id: bytes) -> PollView | None:
    body = poll(conn, poll_id)
    if body is None:
        return None
    author, room_id = conn.execute("SELECT author, room FROM messages WHERE id = ?", (poll_id,)).fetchone()
    answers = [
        Answer(str(m), int(o), (int(ms), bytes(i)))
        for m, o, ms, i in conn.execute(
            "SELECT member, option, version_ms, version_id FROM answers WHERE poll = ?", (poll_id,)
        )
    ]
    return PollView(MessageId(poll_id), str(author), str(room_id), body, tally(body.options, body.closes_ms, answers))


@dataclass(frozen=True)
class EventView:
    id: MessageId
    author: str
    room: str
    body: EventBody
    answers: dict[str, int]  # member -> 0 no, 1 yes, 2 maybe


def events(conn: sqlite3.Connection, room_id: str | None) -> list[EventView]:
    """Events of one room (None: of every room), newest first."""
    rows = conn.execute(
        "SELECT id, author, room FROM messages WHERE kind = ? AND (? IS NULL OR room = ?) AND hidden = 0"
        " ORDER BY timestamp_ms DESC",
        (int(Kind.EVENT), room_id, room_id),
    ).fetchall()
    out = []
    for ident, author, room in rows:
        body = _body_of(conn, bytes(ident), Kind.EVENT)
        if not isinstance(body, EventBody):
            continue
        answers = {
            str(m): int(a) for m, a in conn.execute("SELECT member, answer FROM rsvps WHERE event = ?", (ident,))
        }
        out.append(EventView(MessageId(bytes(ident)), str(author), str(room), body, answers))
    return out


def room_keys(conn: sqlite3.Connection, room_id: str) -> list[RoomKey]:
    return [
        RoomKey(
            MessageId(bytes(k)),
            (int(ts), bytes(k)),
            frozenset(bytes(r[i : i + 32]) for i in range(0, len(r), 32)),
        )
        for k, ts, r in conn.execute(
            "SELECT key_id, timestamp_ms, recipients FROM room_keys WHERE room = ?", (room_id,)
        )
    ]


def xkeys(conn: sqlite3.Connection) -> dict[str, bytes]:
    return {str(m): bytes(p) for m, p in conn.execute("SELECT member, public FROM xkeys")}


def missing_blobs(conn: sqlite3.Connection) -> list[tuple[bytes, int, str]]:
    """Attachments of visible messages whose bytes this node does not hold yet."""
    return [
        (bytes(h), int(s), str(m))
        for h, s, m in conn.execute(
            "SELECT DISTINCT a.sha256, a.size, a.mime FROM attachments a JOIN messages m ON m.id = a.message_id"
            " WHERE m.hidden = 0 AND a.sha256 NOT IN (SELECT sha256 FROM blobs)"
        )
    ]


def forget_unreferenced_blobs(conn: sqlite3.Connection, now_ms: int) -> int:
    """Drops attachments of messages that are gone, and the bytes of every blob no visible
    message names (a hidden post's attachments stay listed, so unhiding fetches them again),
    except uploads still waiting for their post."""
    conn.execute("DELETE FROM attachments WHERE message_id NOT IN (SELECT id FROM messages)")
    return conn.execute(
        "DELETE FROM blobs WHERE keep_until_ms < ? AND sha256 NOT IN (SELECT a.sha256 FROM attachments a"
        " JOIN messages m ON m.id = a.message_id WHERE m.hidden = 0)",
        (now_ms,),
    ).rowcount
